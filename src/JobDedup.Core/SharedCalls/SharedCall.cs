using System.Diagnostics.Metrics;
using JobDedup.Internal;
using JobDedup.Flights;
using JobDedup.SharedCalls;
using JobDedup.Telemetry;

namespace JobDedup;

/// <summary>
/// Direct request coalescing with no queue in between: concurrent calls with the same key share one run of the work
/// and its result or exception. The .NET counterpart of Go's <c>singleflight.Group</c> and Python's <c>shared-call</c>.
/// </summary>
/// <remarks>
/// The first caller for a key runs the work on its own thread until the work first awaits; later callers join it.
/// A caller's token detaches that caller only; the work's token fires when every caller has left (unless
/// <see cref="SharedCallOptions.RunToCompletionWhenAbandoned"/>). The key stays the run's until the work has really
/// ended, even after every caller left or <see cref="Forget"/>: a caller arriving meanwhile starts a run that begins
/// only then, so two runs of one key never overlap.
/// </remarks>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TResult">The work's result type.</typeparam>
public sealed partial class SharedCall<TKey, TResult>
    where TKey : notnull
{
    private readonly FlightTable<TKey> _flights;
    private readonly FlightCounters _counters = new();
    private readonly DeduplicatorMetrics _metrics;
    private readonly bool _runToCompletionWhenAbandoned;

    // One delegate per group rather than a back reference on every flight: keeps each flight 8 bytes smaller.
    private readonly Action<Task<TResult>, object?> _finishWhenDone;

    /// <summary>Initializes a new instance of the <see cref="SharedCall{TKey, TResult}"/> class.</summary>
    /// <param name="options">Settings; the defaults when omitted.</param>
    /// <param name="comparer">Compares keys; the default comparer when omitted.</param>
    /// <param name="meterFactory">
    /// Creates the <c>JobDedup</c> meter the counters are recorded on; a static meter when omitted.
    /// <c>AddSharedCall</c> passes the container's.
    /// </param>
    /// <exception cref="ArgumentException"><see cref="SharedCallOptions.Name"/> is empty.</exception>
    public SharedCall(SharedCallOptions? options = null, IEqualityComparer<TKey>? comparer = null, IMeterFactory? meterFactory = null)
    {
        var name = options?.Name ?? "shared-call";
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException($"{nameof(SharedCallOptions)}.{nameof(SharedCallOptions.Name)} must not be empty.", nameof(options));
        }

        Name = name;
        _metrics = new DeduplicatorMetrics(Instruments.For(meterFactory), name);
        _flights = new FlightTable<TKey>(comparer);
        _runToCompletionWhenAbandoned = options?.RunToCompletionWhenAbandoned ?? false;
        _finishWhenDone = (task, state) => Finish((SharedFlight<TKey, TResult>)state!, task);
    }

    /// <summary>Gets the name the shared call's metrics are tagged with.</summary>
    public string Name { get; }

    /// <summary>Runs <paramref name="work"/> for <paramref name="key"/>, or joins the run already in progress.</summary>
    /// <param name="key">The key calls are coalesced by.</param>
    /// <param name="work">The work; it receives a token that fires only when every caller has left.</param>
    /// <param name="cancellationToken">Detaches this caller only.</param>
    /// <returns>The shared result; a failure of the work is thrown to every caller.</returns>
    public Task<TResult> RunAsync(TKey key, Func<CancellationToken, Task<TResult>> work, CancellationToken cancellationToken = default) =>
        RunAsync(key, work, static (w, token) => w(token), cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> with <paramref name="state"/> for <paramref name="key"/>, or joins the run already
    /// in progress. Passing state instead of capturing it keeps the call free of closure allocations.
    /// </summary>
    /// <typeparam name="TState">The state type.</typeparam>
    /// <param name="key">The key calls are coalesced by.</param>
    /// <param name="state">Passed to <paramref name="work"/> when this caller leads.</param>
    /// <param name="work">The work; it receives a token that fires only when every caller has left.</param>
    /// <param name="cancellationToken">Detaches this caller only.</param>
    /// <returns>The shared result; a failure of the work is thrown to every caller.</returns>
    public Task<TResult> RunAsync<TState>(
        TKey key,
        TState state,
        Func<TState, CancellationToken, Task<TResult>> work,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(work);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TResult>(cancellationToken);
        }

        if (!TryLead(key, cancellationToken.CanBeCanceled, out var flight))
        {
            return Wait(flight, cancellationToken);
        }

        if (flight.Predecessor is { } predecessor)
        {
            // An earlier run of this key has not ended yet: this one starts when it does.
            _ = RunAfterAsync(flight, predecessor, state, work);
            return Wait(flight, cancellationToken);
        }

        var task = Start(flight, state, work);
        if (task.IsCompleted)
        {
            Finish(flight, task);
            return task;
        }

        _ = task.ContinueWith(_finishWhenDone, flight, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return Wait(flight, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="work"/> on this thread for <paramref name="key"/>, or blocks until the run in progress
    /// ends. For threaded code; do not call it with the same key from inside the work.
    /// </summary>
    /// <param name="key">The key calls are coalesced by.</param>
    /// <param name="work">The work.</param>
    /// <returns>The shared result; a failure of the work is thrown to every caller.</returns>
    public TResult Run(TKey key, Func<TResult> work)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(work);
        if (!TryLead(key, leaderCancellable: false, out var flight))
        {
            return flight.GetTask().GetAwaiter().GetResult();
        }

        // An earlier run of this key that has not ended yet (abandoned, or forgotten) ends first.
        flight.Predecessor?.WhenRunEnded().GetAwaiter().GetResult();

        TResult value;
        try
        {
            value = work();
        }
        catch (Exception ex)
        {
            Finish(flight, Task.FromException<TResult>(ex));
            throw;
        }

        Finish(flight, Task.FromResult(value));
        return value;
    }

    /// <summary>Makes the next call with this key start a new run; a run in progress goes on for its callers.</summary>
    /// <param name="key">The key.</param>
    /// <remarks>The new run starts only once the forgotten one has ended, so two runs of one key never overlap.</remarks>
    public void Forget(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        ForgetBarrier<TKey>.Install(_flights, key, static _ => null, remove: null);
    }

    /// <summary>Makes the next call with any key start a new run.</summary>
    public void ForgetAll()
    {
        foreach (var owner in _flights.Snapshot())
        {
            Forget(owner.Key);
        }
    }

    /// <summary>Returns the counters since start or the last <see cref="ResetStats"/>.</summary>
    /// <returns>A snapshot; <see cref="DeduplicationStats.Queued"/> is always 0 here.</returns>
    public DeduplicationStats GetStats() => _counters.Snapshot(_flights.Count, queued: 0);

    /// <summary>Sets the counters back to zero.</summary>
    public void ResetStats() => _counters.Reset();

    private static InvalidOperationException NullTask() => new("The work returned null instead of a task.");

    private static Task<TResult> Start<TState>(SharedFlight<TKey, TResult> flight, TState state, Func<TState, CancellationToken, Task<TResult>> work)
    {
        if (!flight.TryStartRunning())
        {
            // Every caller left before the work could start.
            return Task.FromCanceled<TResult>(flight.HandlerToken.IsCancellationRequested ? flight.HandlerToken : new CancellationToken(canceled: true));
        }

        try
        {
            return work(state, flight.HandlerToken) ?? Task.FromException<TResult>(NullTask());
        }
        catch (Exception ex)
        {
            return Task.FromException<TResult>(ex);
        }
    }

    private async Task RunAfterAsync<TState>(
        SharedFlight<TKey, TResult> flight,
        KeyOwner<TKey> predecessor,
        TState state,
        Func<TState, CancellationToken, Task<TResult>> work)
    {
        Task<TResult> task;
        try
        {
            await predecessor.WhenRunEnded().WaitAsync(flight.HandlerToken).ConfigureAwait(false);
            task = Start(flight, state, work);
            await ((Task)task).WhenEnded().ConfigureAwait(false);
        }
        catch (OperationCanceledException ex)
        {
            // Every caller left while the earlier run was still going.
            task = Task.FromCanceled<TResult>(ex.CancellationToken.IsCancellationRequested ? ex.CancellationToken : new CancellationToken(canceled: true));
        }

        Finish(flight, task);
    }

    private static async Task<TResult> WaitOrLeaveAsync(SharedFlight<TKey, TResult> flight, Task<TResult> shared, CancellationToken cancellationToken)
    {
        try
        {
            return await shared.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !shared.IsCompleted)
        {
            flight.Leave();
            throw;
        }
    }

    private static Task<TResult> Wait(SharedFlight<TKey, TResult> flight, CancellationToken cancellationToken)
    {
        var shared = flight.GetTask();
        return !cancellationToken.CanBeCanceled || shared.IsCompleted ? shared : WaitOrLeaveAsync(flight, shared, cancellationToken);
    }

    /// <summary>Joins the flight for <paramref name="key"/>, or starts one; true when the caller leads.</summary>
    private bool TryLead(TKey key, bool leaderCancellable, out SharedFlight<TKey, TResult> flight)
    {
        while (true)
        {
            var current = _flights.Find(key);
            if (current is SharedFlight<TKey, TResult> running && running.TryJoin())
            {
                _counters.Hit();
                _metrics.Enqueued(JobRole.Joined);
                flight = running;
                return false;
            }

            // A leader waiting without a token never leaves, so its flight can never be abandoned and needs no token
            // source. An owner that accepts no one (abandoned, completing, or forgotten) becomes the new flight's
            // predecessor: it keeps the key until its work ends.
            var created = new SharedFlight<TKey, TResult>(
                key,
                cancellable: leaderCancellable && !_runToCompletionWhenAbandoned,
                _runToCompletionWhenAbandoned,
                current is { IsReleased: false } ? current : null);
            if (_flights.TryReplace(created, current))
            {
                _counters.Miss();
                _metrics.Enqueued(JobRole.Leader);
                _metrics.Active(1);
                flight = created;
                return true;
            }
        }
    }

    private void Finish(SharedFlight<TKey, TResult> flight, Task<TResult> finished)
    {
        // No one joins once completed; anyone arriving now starts a run that waits for this key's release below.
        flight.TryMarkCompleted();
        if (finished.IsFaulted)
        {
            _counters.Error();
            _ = finished.Exception; // observed here; every caller gets the same exception
        }

        flight.Complete(finished);
        flight.MarkRunEnded();
        flight.ReleaseKey(_flights);
        _metrics.Active(-1);
        _metrics.Completed(finished.Status switch
        {
            TaskStatus.RanToCompletion => JobStatus.Succeeded,
            TaskStatus.Canceled => JobStatus.Canceled,
            _ => JobStatus.Failed,
        });
    }
}
