using System.Diagnostics;
using JobDedup.Flights;
using JobDedup.Telemetry;

namespace JobDedup.Dispatching;

/// <summary>
/// One caller of <c>EnqueueAsync</c>: its job, and the task its outcome arrives on. It travels through the queue as
/// is, so a job costs one object from caller to flight.
/// </summary>
/// <remarks>
/// Its one state field settles every race between the outcome, the caller's token and the dispatcher: whichever
/// transition wins decides what the caller gets, and a caller that leaves after a flight counted it leaves that
/// flight exactly once.
/// </remarks>
internal sealed class JobWaiter<TJob, TResult> : TaskCompletionSource<JobOutcome<TResult>>
{
    private int _state; // WaiterState
    private JobRole _role;
    private JobFlight<TJob, TResult>? _flight;
    private CancellationTokenRegistration _registration;
    private Activity? _trace;
    private bool _joinSpan;

    public JobWaiter(string key, TJob job)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        Key = key;
        Job = job;
        _trace = Tracing.CallerActivity();
    }

    public string Key { get; }

    public TJob Job { get; }

    /// <summary>Gets the job's payload fingerprint, computed once at enqueue; <see langword="null"/> when payloads are not compared.</summary>
    public string? Fingerprint { get; init; }

    /// <summary>Gets a value indicating whether the caller can leave before its outcome (its token can be canceled).</summary>
    public bool CanLeave { get; private set; }

    /// <summary>Gets the caller's state.</summary>
    public WaiterState State => (WaiterState)Volatile.Read(ref _state);

    /// <summary>Gets a value indicating whether the caller still waits for its outcome.</summary>
    public bool IsWaiting => State is WaiterState.Queued or WaiterState.Attached;

    /// <summary>
    /// Gets the caller's place in its trace: its activity when it enqueued (only while the engine's spans are listened
    /// to), or, once it joined a flight, its join span. <see langword="null"/> when untraced.
    /// </summary>
    public Activity? Trace => _trace;

    /// <summary>Opens the joined caller's span in its own trace; it ends, linked to the run, when the caller has its outcome.</summary>
    /// <param name="deduplicator">The deduplicator's name.</param>
    public void StartJoinSpan(string deduplicator)
    {
        if (Tracing.StartJoin(_trace, deduplicator) is { } span)
        {
            _trace = span;
            _joinSpan = true;
        }
    }

    public void RegisterCancellation(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            CanLeave = true;
            _registration = cancellationToken.UnsafeRegister(
                static (state, token) => ((JobWaiter<TJob, TResult>)state!).OnCanceled(token),
                this);
        }
    }

    /// <summary>Records that <paramref name="flight"/> counted this caller; leaves it again if the caller already left.</summary>
    public void MarkAttached(JobFlight<TJob, TResult> flight, JobRole role)
    {
        _role = role;
        Volatile.Write(ref _flight, flight);
        var seen = (WaiterState)Interlocked.CompareExchange(ref _state, (int)WaiterState.Attached, (int)WaiterState.Queued);
        AssertInvariants();
        if (seen == WaiterState.Left)
        {
            flight.Leave();
        }
    }

    /// <summary>Delivers the outcome unless the caller already has one.</summary>
    /// <returns><see langword="true"/> when this call delivered it.</returns>
    public bool Complete(in JobOutcome<TResult> outcome)
    {
        if (!TryMove(WaiterState.Completed, out _))
        {
            return false;
        }

        // Unregister rather than dispose: it never waits for a callback running on another thread.
        _registration.Unregister();
        if (_trace is not null)
        {
            EndTrace(outcome.Status, outcome.Role);
        }

        TrySetResult(outcome);
        return true;
    }

    private void OnCanceled(CancellationToken token)
    {
        if (!TryMove(WaiterState.Left, out var from))
        {
            return;
        }

        if (_trace is not null)
        {
            EndTrace(JobStatus.Canceled, _role);
        }

        TrySetResult(JobOutcome<TResult>.Canceled(
            Key,
            new OperationCanceledException("The caller's cancellation token fired; the job goes on for any other caller.", token),
            _role,
            attempts: 0));
        if (from == WaiterState.Attached)
        {
            Volatile.Read(ref _flight)!.Leave();
        }
    }

    /// <summary>Ends the caller's join span, or records a replayed answer in its trace. Tracing never fails a caller.</summary>
    private void EndTrace(JobStatus status, JobRole role)
    {
        try
        {
            if (_joinSpan)
            {
                Tracing.EndJoin(_trace!, Volatile.Read(ref _flight)?.RunSpan, status, role);
            }
            else if (role == JobRole.Replayed)
            {
                Tracing.Replayed(_trace!);
            }
        }
        catch (Exception)
        {
            // A throwing activity listener is its own bug; the caller still gets its outcome.
        }
    }

    /// <summary>Moves from a waiting state to <paramref name="to"/>; fails once the caller has its outcome.</summary>
    private bool TryMove(WaiterState to, out WaiterState from)
    {
        var current = Volatile.Read(ref _state);
        while ((WaiterState)current is WaiterState.Queued or WaiterState.Attached)
        {
            var seen = Interlocked.CompareExchange(ref _state, (int)to, current);
            if (seen == current)
            {
                from = (WaiterState)current;
                AssertInvariants();
                return true;
            }

            current = seen;
        }

        from = (WaiterState)current;
        return false;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        var state = State;
        Debug.Assert(state != WaiterState.Attached || Volatile.Read(ref _flight) is not null, "An attached caller knows its flight.");
    }
}
