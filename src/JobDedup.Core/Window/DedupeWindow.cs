using JobDedup.Internal;
using JobDedup.Flights;
using JobDedup.Telemetry;

namespace JobDedup.Window;

/// <summary>
/// The dedupe window of one deduplicator: reads, fenced writes of what the retention policy keeps, and forgetting. Every write is fenced by its
/// flight's <see cref="WindowWriteState"/>, so a forgotten flight never writes; every removal waits for a write
/// already started; and whoever arrives after a forget waits for its removal before reading.
/// </summary>
internal sealed class DedupeWindow<TResult>
{
    private readonly IOutcomeStore<TResult> _store;
    private readonly FlightTable<string> _table;
    private readonly RetentionPolicy _retention;
    private readonly TimeProvider _timeProvider;
    private readonly EngineLog _log;
    private Task _clearing = Task.CompletedTask;

    public DedupeWindow(IOutcomeStore<TResult> store, FlightTable<string> table, RetentionPolicy retention, TimeProvider timeProvider, EngineLog log)
    {
        _store = store;
        _table = table;
        _retention = retention;
        _timeProvider = timeProvider;
        _log = log;
        Claims = store as IClaimingOutcomeStore<TResult>;
    }

    /// <summary>Gets the store as a claiming store, when it is one: flights then claim their key instead of reading.</summary>
    public IClaimingOutcomeStore<TResult>? Claims { get; }

    /// <summary>Decides how long a finished run's outcome is kept (zero: not at all); a classifier that throws is logged here.</summary>
    public TimeSpan RetentionFor(in JobOutcome<TResult> outcome)
    {
        var keep = _retention.For(outcome, out var classifierFailure);
        if (classifierFailure is not null)
        {
            _log.Write(static (logger, name, s) => Log.RetentionClassifierFailed(logger, name, s.Key, s.classifierFailure), (outcome.Key, classifierFailure));
        }

        return keep;
    }

    /// <summary>Returns what the window keeps of a finished run of <paramref name="flight"/>, stamped now.</summary>
    public StoredOutcome<TResult> ToKept<TJob>(JobFlight<TJob, TResult> flight, in JobOutcome<TResult> outcome) =>
        KeptOutcome.From(outcome, flight.Fingerprint, _timeProvider.GetUtcNow());

    /// <summary>
    /// Reads the window for a key no one holds, from the dispatcher. A claiming store answers in the flight's claim
    /// instead, and nothing is read while a <c>ForgetAll</c> is still clearing.
    /// </summary>
    /// <returns>The kept outcome when it was there at once; otherwise null, with what the flight should know.</returns>
    public StoredOutcome<TResult>? TryGetNow(string key, out WindowLookup<TResult> lookup)
    {
        lookup = WindowLookup<TResult>.None;
        if (Claims is not null || !Volatile.Read(ref _clearing).IsCompleted)
        {
            return null;
        }

        var read = _store.TryGetAsync(_log.Name, key, CancellationToken.None);
        if (read.IsCompletedSuccessfully)
        {
            var found = read.Result;
            lookup = new WindowLookup<TResult>(Checked: found is null, Pending: null);
            return found;
        }

        // A store that answers later: the flight waits for it, and callers arriving meanwhile join. If the flight is
        // canceled first, a later failure of the read is still observed.
        var pending = read.AsTask();
        _ = pending.ContinueWith(
            static t => _ = t.Exception,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        lookup = new WindowLookup<TResult>(Checked: false, Pending: pending);
        return null;
    }

    /// <summary>Reads the window from a flight that holds the key.</summary>
    public async ValueTask<StoredOutcome<TResult>?> TryGetAsync(string key, WindowLookup<TResult> lookup, CancellationToken cancellationToken)
    {
        if (lookup.Pending is { } pending)
        {
            return await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (lookup.Checked)
        {
            return null;
        }

        await WaitForClearingAsync(cancellationToken).ConfigureAwait(false);
        return await _store.TryGetAsync(_log.Name, key, CancellationToken.None).AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits while a <c>ForgetAll</c> is still clearing the store.</summary>
    public async ValueTask WaitForClearingAsync(CancellationToken cancellationToken)
    {
        var clearing = Volatile.Read(ref _clearing);
        if (clearing.IsCompleted)
        {
            return;
        }

        try
        {
            await clearing.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The clear failed and was logged; the store keeps what it kept, and this flight goes on.
        }
    }

    /// <summary>Keeps a finished run's outcome for <paramref name="retention"/>, unless the flight was forgotten. Never throws.</summary>
    public async ValueTask SaveAsync<TJob>(JobFlight<TJob, TResult> flight, JobOutcome<TResult> outcome, TimeSpan retention)
    {
        if (!flight.TryBeginWindowWrite())
        {
            return;
        }

        try
        {
            await _store.SaveAsync(_log.Name, flight.Key, ToKept(flight, outcome), retention, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The job did run: its callers still get the value. Only the window is lost for this key.
            _log.Write(static (logger, name, s) => Log.OutcomeSaveFailed(logger, name, s.Key, s.ex), (flight.Key, ex));
        }
    }

    /// <summary>
    /// Forgets a key: puts a barrier in front of its owner and removes the kept outcome once any write already
    /// started has ended. Whoever arrives after this returns waits for that removal.
    /// </summary>
    /// <returns>The removal; it faults when the store could not remove the outcome.</returns>
    /// <remarks>
    /// A claiming store fences every completion by its claim, so its removal need not wait: a completion landing
    /// after it is refused. A plain store cannot refuse a late write, so its removal waits for the write to end.
    /// </remarks>
    public Task Forget(string key) =>
        ForgetBarrier<string>.Install(_table, key, ForgetOwnersFor, k => _store.RemoveAsync(_log.Name, k, CancellationToken.None)).Removed;

    /// <summary>Forgets every key held and clears the store; whoever arrives after this returns waits for the clear.</summary>
    /// <returns>The clear; it faults when the store could not clear.</returns>
    public Task ForgetAll()
    {
        var clearing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var previous = Interlocked.Exchange(ref _clearing, clearing.Task);
        var removals = new List<Task> { previous };
        foreach (var owner in _table.Snapshot())
        {
            removals.Add(ForgetBarrier<string>.Install(_table, owner.Key, ForgetOwnersFor, remove: null).Removed);
        }

        _ = ClearAfterAsync(removals, clearing);
        return clearing.Task;
    }

    /// <summary>Forgets an owner and every flight before it that still holds the key.</summary>
    /// <returns>What must end before the outcome can be removed: the release of each flight whose write had started.</returns>
    internal static Task? ForgetOwners(KeyOwner<string> owner)
    {
        List<Task>? writes = null;
        for (var current = owner as Flight<string>; current is not null; current = current.Predecessor as Flight<string>)
        {
            if (current is IForgettable forgettable && forgettable.MarkForgotten())
            {
                (writes ??= []).Add(current.WhenReleased());
            }
        }

        return writes switch
        {
            null => null,
            [var one] => one,
            _ => TaskEnd.WhenAllEnded(writes),
        };
    }

    private Task? ForgetOwnersFor(KeyOwner<string> owner)
    {
        var writes = ForgetOwners(owner);
        return Claims is null ? writes : null;
    }

    private async Task ClearAfterAsync(List<Task> removals, TaskCompletionSource clearing)
    {
        try
        {
            await TaskEnd.WhenAllEnded(removals).ConfigureAwait(false);
            await _store.ClearAsync(_log.Name, CancellationToken.None).ConfigureAwait(false);
            clearing.TrySetResult();
        }
        catch (Exception ex)
        {
            _log.Write(static (logger, name, ex) => Log.OutcomeRemoveFailed(logger, name, "*", ex), ex);
            clearing.TrySetException(ex);
        }
    }
}
