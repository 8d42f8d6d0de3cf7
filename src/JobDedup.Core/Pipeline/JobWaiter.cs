namespace JobDedup.Pipeline;

/// <summary>
/// One caller of <c>EnqueueAsync</c>: its job, and the task its outcome arrives on. It travels through the queue
/// as is, so a job costs one object from caller to flight.
/// </summary>
/// <remarks>
/// A caller whose token fires gets a canceled outcome at once and leaves its flight exactly once, whether the token
/// fires while queued, while being attached, or while the handler runs (the state field settles the race).
/// </remarks>
internal sealed class JobWaiter<TJob, TResult> : TaskCompletionSource<JobOutcome<TResult>>
{
    private const int Queued = 0;
    private const int Attached = 1;
    private const int Left = 2;

    private int _state;
    private JobRole _role;
    private JobFlight<TJob, TResult>? _flight;
    private CancellationTokenRegistration _registration;

    public JobWaiter(string key, TJob job)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        Key = key;
        Job = job;
    }

    public string Key { get; }

    public TJob Job { get; }

    /// <summary>Gets a value indicating whether the caller can leave before its outcome (its token can be canceled).</summary>
    public bool CanLeave { get; private set; }

    /// <summary>Gets a value indicating whether the caller still waits for its outcome.</summary>
    public bool IsWaiting => !Task.IsCompleted;

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

    /// <summary>Records that <paramref name="flight"/> counted this caller; leaves again if the caller already left.</summary>
    public void MarkAttached(JobFlight<TJob, TResult> flight, JobRole role)
    {
        _role = role;
        Volatile.Write(ref _flight, flight);
        if (Interlocked.CompareExchange(ref _state, Attached, Queued) != Queued)
        {
            flight.Leave();
        }
    }

    /// <summary>Delivers the outcome unless the caller already has one.</summary>
    public bool Complete(in JobOutcome<TResult> outcome)
    {
        if (!TrySetResult(outcome))
        {
            return false;
        }

        // Unregister rather than dispose: it never waits for a callback running on another thread.
        _registration.Unregister();
        return true;
    }

    private void OnCanceled(CancellationToken token)
    {
        var outcome = JobOutcome<TResult>.Canceled(
            Key,
            new OperationCanceledException("The caller's cancellation token fired; the job goes on for any other caller.", token),
            _role,
            attempts: 0);
        if (!TrySetResult(outcome))
        {
            return;
        }

        if (Interlocked.Exchange(ref _state, Left) == Attached)
        {
            Volatile.Read(ref _flight)!.Leave();
        }
    }
}
