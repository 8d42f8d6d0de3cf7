namespace JobDedup.Redis.Caching;

/// <summary>What one coalesced load needs, passed as state so that a call allocates no closure.</summary>
internal readonly record struct LoadRequest<TState, T>(
    SharedCache Cache,
    string Key,
    TState State,
    Func<TState, CancellationToken, ValueTask<T>> Factory,
    CacheEntryOptions Options)
{
    /// <summary>Runs the factory; a synchronous throw becomes a faulted task.</summary>
    public Task<T> Invoke(CancellationToken cancellationToken)
    {
        try
        {
            return Factory(State, cancellationToken).AsTask();
        }
        catch (Exception ex)
        {
            return Task.FromException<T>(ex);
        }
    }
}
