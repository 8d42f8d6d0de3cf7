namespace JobDedup.Flights;

/// <summary>
/// What <c>Forget</c> leaves in the table in place of the key's owner: it accepts no caller, removes the kept outcome
/// once any window write of the forgotten owner has ended, and releases the key only when that removal is done and
/// the forgotten owner has released it too. A caller arriving after <c>Forget</c> returns therefore starts a flight
/// that neither overlaps the old run nor reads the forgotten outcome.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
internal sealed class ForgetBarrier<TKey> : KeyOwner<TKey>
    where TKey : notnull
{
    private KeyOwner<TKey>? _replaced;

    private ForgetBarrier(TKey key)
        : base(key)
    {
    }

    /// <summary>Gets the removal of the kept outcome: it completes (or faults) once the store has dropped it.</summary>
    public Task Removed { get; private set; } = Task.CompletedTask;

    /// <summary>
    /// Puts a barrier in front of the key's current owner. Returns only once the barrier is in the table, so any caller
    /// arriving afterwards sees it.
    /// </summary>
    /// <param name="table">The table.</param>
    /// <param name="key">The key.</param>
    /// <param name="forgetOwner">
    /// Tells the replaced owner it was forgotten, and returns what must end before its outcome can be removed (its
    /// window write in progress), or <see langword="null"/> when nothing must.
    /// </param>
    /// <param name="remove">Removes the kept outcome; <see langword="null"/> when nothing is kept.</param>
    public static ForgetBarrier<TKey> Install(
        FlightTable<TKey> table,
        TKey key,
        Func<KeyOwner<TKey>, Task?> forgetOwner,
        Func<TKey, ValueTask>? remove)
    {
        var barrier = new ForgetBarrier<TKey>(key);
        KeyOwner<TKey>? replaced;
        do
        {
            replaced = table.Find(key);
        }
        while (!table.TryReplace(barrier, replaced));

        barrier._replaced = replaced is { IsReleased: false } ? replaced : null;
        var writing = replaced is null ? null : forgetOwner(replaced);
        barrier.Removed = remove is null ? writing ?? Task.CompletedTask : RemoveAfterAsync(key, writing, remove);
        _ = barrier.ReleaseAsync(table, replaced);
        return barrier;
    }

    /// <summary>A barrier accepts no caller: whoever arrives starts a successor that waits for it.</summary>
    public override bool TryJoin() => false;

    /// <summary>A barrier runs nothing: the runs it waits for are those of the owners it replaced.</summary>
    public override Task WhenRunEnded() => Volatile.Read(ref _replaced)?.WhenRunEnded() ?? Task.CompletedTask;

    private static async Task RemoveAfterAsync(TKey key, Task? writing, Func<TKey, ValueTask> remove)
    {
        if (writing is not null)
        {
            await writing.ConfigureAwait(false);
        }

        await remove(key).ConfigureAwait(false);
    }

    private async Task ReleaseAsync(FlightTable<TKey> table, KeyOwner<TKey>? replaced)
    {
        try
        {
            await Removed.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The failure is reported to whoever awaits Removed (ForgetAsync) or logged by Forget; the key goes on.
        }

        if (replaced is not null)
        {
            await replaced.WhenReleased().ConfigureAwait(false);
        }

        Volatile.Write(ref _replaced, null);
        table.Remove(this);
        MarkReleased();
    }
}
