namespace JobDedup.Flights;

/// <summary>
/// Whatever holds a key in the <see cref="FlightTable{TKey}"/>: a flight, or the barrier a <c>Forget</c> leaves. An
/// owner holds its key until it is released; whoever arrives meanwhile and cannot join it starts a successor that
/// waits for that release, so two runs of one key never overlap and a forgotten outcome is never read back.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
internal abstract class KeyOwner<TKey>
    where TKey : notnull
{
    private static readonly object ReleasedMarker = new();

    // null: held, nobody waits; a TaskCompletionSource: held, a successor waits; ReleasedMarker: released.
    private object? _release;

    protected KeyOwner(TKey key) => Key = key;

    public TKey Key { get; }

    /// <summary>Gets a value indicating whether the owner gave its key up.</summary>
    public bool IsReleased => ReferenceEquals(Volatile.Read(ref _release), ReleasedMarker);

    /// <summary>Attaches one more caller, if this owner still accepts callers.</summary>
    /// <returns><see langword="true"/> when the caller is attached.</returns>
    public abstract bool TryJoin();

    /// <summary>Returns a task that completes when the key is released; allocates only the first time someone waits.</summary>
    public Task WhenReleased()
    {
        var current = Volatile.Read(ref _release);
        while (true)
        {
            if (ReferenceEquals(current, ReleasedMarker))
            {
                return Task.CompletedTask;
            }

            if (current is TaskCompletionSource waiting)
            {
                return waiting.Task;
            }

            var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var seen = Interlocked.CompareExchange(ref _release, created, null);
            if (seen is null)
            {
                return created.Task;
            }

            current = seen;
        }
    }

    /// <summary>Marks the key released and wakes the successor, if one waits. Call once the owner left the table.</summary>
    protected void MarkReleased()
    {
        if (Interlocked.Exchange(ref _release, ReleasedMarker) is TaskCompletionSource waiting)
        {
            waiting.TrySetResult();
        }
    }
}
