namespace JobDedup.Flights;

/// <summary>
/// Whatever holds a key in the <see cref="FlightTable{TKey}"/>: a flight, or the barrier a <c>Forget</c> leaves. An
/// owner holds its key until it is released; whoever arrives meanwhile and cannot join it starts a successor that
/// waits for it, so two runs of one key never overlap and a forgotten outcome is never read back.
/// </summary>
/// <remarks>
/// Two moments matter to a successor: when the owner's handler has really ended (<see cref="WhenRunEnded"/>: the
/// successor's handler may start), and when the owner has released the key (<see cref="WhenReleased"/>: its window
/// write, or a forget's removal, is done too).
/// </remarks>
/// <typeparam name="TKey">The key type.</typeparam>
internal abstract class KeyOwner<TKey>
    where TKey : notnull
{
    private object? _released;

    protected KeyOwner(TKey key) => Key = key;

    public TKey Key { get; }

    /// <summary>Gets a value indicating whether the owner gave its key up.</summary>
    public bool IsReleased => LazySignal.IsSet(ref _released);

    /// <summary>Attaches one more caller, if this owner still accepts callers.</summary>
    /// <returns><see langword="true"/> when the caller is attached.</returns>
    public abstract bool TryJoin();

    /// <summary>Returns a task that completes when no handler of this owner (or of one before it) runs any more.</summary>
    public abstract Task WhenRunEnded();

    /// <summary>Returns a task that completes when the key is released; allocates only the first time someone waits.</summary>
    public Task WhenReleased() => LazySignal.Wait(ref _released);

    /// <summary>Marks the key released and wakes the successor, if one waits. Call once the owner left the table.</summary>
    protected void MarkReleased() => LazySignal.Set(ref _released);
}
