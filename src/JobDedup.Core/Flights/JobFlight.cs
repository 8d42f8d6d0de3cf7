using System.Diagnostics;
using JobDedup.Dispatching;
using JobDedup.Running;
using JobDedup.Window;

namespace JobDedup.Flights;

/// <summary>
/// A flight of the job pipeline: its callers (<see cref="FlightWaiters{TJob, TResult}"/>), its attempts, and its
/// right to write the dedupe window. The dispatcher creates it and adds callers; <see cref="FlightRunner{TJob, TResult}"/>
/// runs it on the thread pool.
/// </summary>
internal sealed class JobFlight<TJob, TResult> : Flight<string>, IForgettable, IThreadPoolWorkItem
{
    private readonly FlightRunner<TJob, TResult> _runner;
    private readonly CancellationToken _waitToken;
    private readonly CancellationToken _shutdownToken;
    private int _attempts;
    private int _window; // WindowWriteState
    private object? _delivered;
    private long _startedAt;

    /// <param name="runner">Runs the flight.</param>
    /// <param name="leader">The caller that starts the flight.</param>
    /// <param name="canBeAbandoned">
    /// Whether the flight may lose every caller (its leader can leave, and abandoned handlers are canceled); only then
    /// does it need a token source of its own.
    /// </param>
    /// <param name="runToCompletionWhenAbandoned">Keep the handler running after the last caller leaves.</param>
    /// <param name="predecessor">The owner of the key this flight replaced, if it still holds the key.</param>
    /// <param name="lookup">The dedupe-window lookup the dispatcher already made for it, if any.</param>
    /// <param name="stopping">Fires when shutdown begins: ends waits of a flight with no token source of its own.</param>
    /// <param name="shutdown">Fires when shutdown gives up on running handlers: the handler token of such a flight.</param>
    /// <param name="debounce">The debounced start of a flight under <see cref="DuplicatePolicyKind.Debounce"/>, or null.</param>
    /// <param name="followsRun">
    /// Whether this is a key's pending flight under <see cref="DuplicatePolicyKind.KeepLatest"/>: its trigger came
    /// while the run before it was in progress, so it must run and never be answered from the window.
    /// </param>
    public JobFlight(
        FlightRunner<TJob, TResult> runner,
        JobWaiter<TJob, TResult> leader,
        bool canBeAbandoned,
        bool runToCompletionWhenAbandoned,
        KeyOwner<string>? predecessor,
        WindowLookup<TResult> lookup,
        CancellationToken stopping,
        CancellationToken shutdown,
        DebounceTimer? debounce = null,
        bool followsRun = false)
        : base(leader.Key, canBeAbandoned, runToCompletionWhenAbandoned, predecessor)
    {
        _runner = runner;
        Debounce = debounce;
        FollowsRun = followsRun;
        _shutdownToken = shutdown;
        Waiters = new FlightWaiters<TJob, TResult>(leader);
        Lookup = lookup;
        Fingerprint = leader.Fingerprint;
        _waitToken = HasOwnCancellation ? HandlerToken : stopping;
    }

    public FlightWaiters<TJob, TResult> Waiters { get; }

    /// <summary>Gets the payload fingerprint of the job that started the flight: what a duplicate must match to join it.</summary>
    public string? Fingerprint { get; }

    /// <summary>Gets what the dispatcher already knows of the dedupe window for this key.</summary>
    public WindowLookup<TResult> Lookup { get; }

    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>Gets the flight's debounced start, under <see cref="DuplicatePolicyKind.Debounce"/>; null otherwise.</summary>
    public DebounceTimer? Debounce { get; }

    /// <summary>
    /// Gets a value indicating whether this is a key's pending flight under <see cref="DuplicatePolicyKind.KeepLatest"/>:
    /// it runs even if the window holds an outcome, since that outcome is of a run its trigger came after.
    /// </summary>
    public bool FollowsRun { get; }

    /// <summary>Gets the clock's timestamp when the flight began its run, or 0 before that.</summary>
    public long StartedAt => Volatile.Read(ref _startedAt);

    /// <summary>
    /// Gets the token for waits before the handler starts (the key, the dedupe window, a claim, a slot): it fires when
    /// the flight is abandoned or shutdown begins.
    /// </summary>
    public CancellationToken WaitToken => _waitToken;

    /// <summary>
    /// Gets or sets the end of a handler that ignored its token after its attempt was given up: the flight keeps its
    /// key, its slot and its claim until then.
    /// </summary>
    public Task? LeftBehind { get; set; }

    /// <summary>Gets or sets the span of the latest handler attempt, which joined callers' spans link to; null when untraced.</summary>
    public Activity? RunSpan { get; set; }

    /// <summary>Gets a value indicating whether <c>Forget</c> reached this flight: its outcome goes to its callers only.</summary>
    public bool IsForgotten => (WindowWriteState)Volatile.Read(ref _window) is WindowWriteState.Forgotten or WindowWriteState.ForgottenWhileWriting;

    /// <inheritdoc/>
    protected override CancellationToken SharedToken => _shutdownToken;

    public int NextAttempt() => Interlocked.Increment(ref _attempts);

    /// <summary>Records when the flight began its run (for <see cref="InFlightSnapshot.OldestAge"/>).</summary>
    public void MarkStarted(long timestamp) => Volatile.Write(ref _startedAt, timestamp);

    /// <summary>Claims the right to write the outcome into the dedupe window.</summary>
    /// <returns><see langword="false"/> when the flight was forgotten: it must not write.</returns>
    public bool TryBeginWindowWrite()
    {
        var won = Interlocked.CompareExchange(ref _window, (int)WindowWriteState.Writing, (int)WindowWriteState.Open) == (int)WindowWriteState.Open;
        AssertInvariants();
        return won;
    }

    /// <summary>Marks the flight forgotten.</summary>
    /// <returns><see langword="true"/> when a window write had started: a removal must wait until the flight gives its key up.</returns>
    public bool MarkForgotten()
    {
        var current = Volatile.Read(ref _window);
        while (true)
        {
            var next = (WindowWriteState)current switch
            {
                WindowWriteState.Open => WindowWriteState.Forgotten,
                WindowWriteState.Writing => WindowWriteState.ForgottenWhileWriting,
                _ => (WindowWriteState)current,
            };
            var seen = Interlocked.CompareExchange(ref _window, (int)next, current);
            if (seen == current)
            {
                AssertInvariants();
                return next == WindowWriteState.ForgottenWhileWriting;
            }

            current = seen;
        }
    }

    /// <summary>
    /// Records that a newer trigger waits behind this flight (a pending flight under
    /// <see cref="DuplicatePolicyKind.KeepLatest"/>): like a forgotten flight, it gives its outcome to its own callers
    /// only and never keeps it, so the pending flight's read or claim is not answered by it.
    /// </summary>
    public void MarkSuperseded() => _ = MarkForgotten();

    /// <summary>Delivers the outcome to every caller, once; nobody joins afterwards.</summary>
    /// <returns><see langword="false"/> when the flight had already completed.</returns>
    public bool TryComplete(in JobOutcome<TResult> outcome, bool replayed, out int delivered)
    {
        delivered = 0;
        if (!TryMarkCompleted())
        {
            return false;
        }

        delivered = Waiters.Deliver(outcome, replayed);
        LazySignal.Set(ref _delivered);
        return true;
    }

    /// <summary>Returns a task that completes once every caller of the flight has its outcome.</summary>
    public Task WhenDelivered() => LazySignal.Wait(ref _delivered);

    /// <summary>Runs the flight on the thread pool, so a handler that blocks never holds up the dispatcher.</summary>
    void IThreadPoolWorkItem.Execute() => _ = _runner.RunAsync(this);

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        var window = (WindowWriteState)Volatile.Read(ref _window);
        Debug.Assert(window <= WindowWriteState.ForgottenWhileWriting, "The window state is one of the four.");
    }
}
