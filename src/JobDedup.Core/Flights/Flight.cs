using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace JobDedup.Flights;

/// <summary>
/// What every flight shares, whichever front end started it (<see cref="JobDeduplicator{TJob, TResult}"/> or
/// <see cref="SharedCall{TKey, TResult}"/>): its phase and the callers attached to it, held together in one state
/// word changed only by compare-and-swap, and the token its handler runs with.
/// </summary>
/// <remarks>
/// Joining costs no lock and no allocation. When the last caller leaves, the flight is abandoned and its handler
/// token fires (unless it runs to completion when abandoned); it keeps its key until its owner releases it, which
/// happens only once the handler has really ended.
/// </remarks>
/// <typeparam name="TKey">The key type.</typeparam>
[SuppressMessage(
    "Design",
    "CA1001:Types that own disposable fields should be disposable",
    Justification = "The token source has no timer, so disposing frees nothing; a handler left behind after a timeout may still hold its token.")]
internal abstract class Flight<TKey> : KeyOwner<TKey>
    where TKey : notnull
{
    private const int PhaseBits = 3;
    private const int PhaseMask = (1 << PhaseBits) - 1;
    private const int OneCaller = 1 << PhaseBits;

    private readonly CancellationTokenSource? _handlerCancellation;
    private readonly bool _runToCompletionWhenAbandoned;
    private KeyOwner<TKey>? _predecessor;
    private object? _runEnded;

    // The phase in the low bits, the number of attached callers above them.
    private int _state;

    /// <param name="key">The key.</param>
    /// <param name="cancellable">
    /// Whether the handler may ever need to be canceled. When every caller waits without a token and nothing can stop
    /// the flight, no token source is allocated.
    /// </param>
    /// <param name="runToCompletionWhenAbandoned">Keep the handler running after the last caller leaves.</param>
    /// <param name="predecessor">The owner this flight replaced in the table, whose release it waits for; or null.</param>
    protected Flight(TKey key, bool cancellable, bool runToCompletionWhenAbandoned, KeyOwner<TKey>? predecessor)
        : base(key)
    {
        _predecessor = predecessor;
        _state = OneCaller | (int)FlightPhase.Pending;
        _runToCompletionWhenAbandoned = runToCompletionWhenAbandoned;
        if (cancellable)
        {
            _handlerCancellation = new CancellationTokenSource();
        }
    }

    /// <summary>
    /// Gets the owner this flight replaced, while that owner still holds the key: the handler must not start before
    /// it is released. <see langword="null"/> when there is none or it was released.
    /// </summary>
    public KeyOwner<TKey>? Predecessor
    {
        get
        {
            var predecessor = Volatile.Read(ref _predecessor);
            if (predecessor is { IsReleased: true })
            {
                Volatile.Write(ref _predecessor, null); // let the chain be collected
                return null;
            }

            return predecessor;
        }
    }

    /// <summary>Gets the token the handler runs with.</summary>
    public CancellationToken HandlerToken => _handlerCancellation?.Token ?? SharedToken;

    /// <summary>Gets a value indicating whether the flight has a token source of its own (it can be abandoned).</summary>
    public bool HasOwnCancellation => _handlerCancellation is not null;

    /// <summary>Gets the flight's phase.</summary>
    public FlightPhase Phase => PhaseOf(Volatile.Read(ref _state));

    /// <summary>Gets the number of callers still attached (0 once abandoned or completed).</summary>
    public int AttachedCount => Volatile.Read(ref _state) >> PhaseBits;

    /// <summary>
    /// Gets the handler token of a flight with no token source of its own (a deduplicator's shutdown token, say).
    /// Kept out of the base so that a flight that needs none stays small.
    /// </summary>
    protected virtual CancellationToken SharedToken => CancellationToken.None;

    /// <summary>Attaches one more caller while the flight is pending or running.</summary>
    public override bool TryJoin()
    {
        var current = Volatile.Read(ref _state);
        while (PhaseOf(current) is FlightPhase.Pending or FlightPhase.Running)
        {
            var seen = Interlocked.CompareExchange(ref _state, current + OneCaller, current);
            if (seen == current)
            {
                AssertInvariants();
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>
    /// Detaches one caller. When the last one leaves, the flight is abandoned and its handler token fires, unless it
    /// runs to completion when abandoned. Call at most once per attached caller.
    /// </summary>
    public void Leave()
    {
        var current = Volatile.Read(ref _state);
        while (PhaseOf(current) is FlightPhase.Pending or FlightPhase.Running && current >> PhaseBits > 0)
        {
            var abandon = current >> PhaseBits == 1 && !_runToCompletionWhenAbandoned;
            var next = abandon ? (int)FlightPhase.Abandoned : current - OneCaller;
            var seen = Interlocked.CompareExchange(ref _state, next, current);
            if (seen == current)
            {
                AssertInvariants();
                if (abandon)
                {
                    CancelHandler();
                }

                return;
            }

            current = seen;
        }
    }

    /// <summary>Moves a pending flight to running, once its handler is about to start.</summary>
    /// <returns><see langword="false"/> when the flight was abandoned or completed first: the handler must not start.</returns>
    public bool TryStartRunning() => TryMove(FlightPhase.Pending, FlightPhase.Running);

    /// <summary>Moves the flight to completed, whatever it was doing; nobody joins it afterwards.</summary>
    /// <returns><see langword="true"/> for the one call that completed it.</returns>
    public bool TryMarkCompleted()
    {
        var current = Volatile.Read(ref _state);
        while (PhaseOf(current) != FlightPhase.Completed)
        {
            var seen = Interlocked.CompareExchange(ref _state, (int)FlightPhase.Completed, current);
            if (seen == current)
            {
                AssertInvariants();
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>
    /// Gives the key up: the flight leaves the table and its successor, if any, may start. Call once the handler has
    /// really ended. A flight whose predecessor still holds the key gives it up only after that predecessor.
    /// </summary>
    /// <param name="table">The table the flight is in.</param>
    public void ReleaseKey(FlightTable<TKey> table)
    {
        if (Predecessor is { } predecessor)
        {
            _ = ReleaseAfterAsync(predecessor, table);
            return;
        }

        MarkRunEnded();
        table.Remove(this);
        MarkReleased();
    }

    /// <summary>Returns a task that completes once this flight's handler has really ended (or will never start).</summary>
    public override Task WhenRunEnded() => LazySignal.Wait(ref _runEnded);

    /// <summary>
    /// Records that the handler has really ended, or will never start. A successor's handler may start once this
    /// and every run before it ended, so the signal waits for the predecessor's too.
    /// </summary>
    public void MarkRunEnded()
    {
        if (Volatile.Read(ref _predecessor)?.WhenRunEnded() is { IsCompleted: false } earlier)
        {
            _ = earlier.ContinueWith(
                static (_, flight) => LazySignal.Set(ref ((Flight<TKey>)flight!)._runEnded),
                this,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            return;
        }

        LazySignal.Set(ref _runEnded);
    }

    /// <summary>Fires the handler token. Runs the handler's cancellation callbacks, so never call it under a lock.</summary>
    public void CancelHandler()
    {
        try
        {
            _handlerCancellation?.Cancel();
        }
        catch (AggregateException)
        {
            // A handler's own cancellation callback threw; the handler sees the token fired all the same.
        }
    }

    private async Task ReleaseAfterAsync(KeyOwner<TKey> predecessor, FlightTable<TKey> table)
    {
        await predecessor.WhenReleased().ConfigureAwait(false);
        Volatile.Write(ref _predecessor, null);
        MarkRunEnded();
        table.Remove(this);
        MarkReleased();
    }

    private static FlightPhase PhaseOf(int state) => (FlightPhase)(state & PhaseMask);

    private bool TryMove(FlightPhase from, FlightPhase to)
    {
        var current = Volatile.Read(ref _state);
        while (PhaseOf(current) == from)
        {
            var seen = Interlocked.CompareExchange(ref _state, (current & ~PhaseMask) | (int)to, current);
            if (seen == current)
            {
                AssertInvariants();
                return true;
            }

            current = seen;
        }

        return false;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        var state = Volatile.Read(ref _state);
        var phase = PhaseOf(state);
        Debug.Assert(phase <= FlightPhase.Completed, "The phase is one of the four.");
        Debug.Assert(state >> PhaseBits >= 0, "The caller count is never negative.");
        Debug.Assert(
            phase is FlightPhase.Pending or FlightPhase.Running || state >> PhaseBits == 0,
            "An abandoned or completed flight has no attached caller.");
    }
}
