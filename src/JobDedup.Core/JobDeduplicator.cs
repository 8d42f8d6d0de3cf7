using System.Diagnostics.Metrics;
using System.Threading.Channels;
using JobDedup.Claims;
using JobDedup.Dispatching;
using JobDedup.Flights;
using JobDedup.Lifecycle;
using JobDedup.Resilience;
using JobDedup.Running;
using JobDedup.Telemetry;
using JobDedup.Window;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobDedup;

/// <summary>
/// The job pipeline: callers enqueue jobs into a bounded queue; one dispatcher owns the in-flight map and either
/// joins a job to the flight already running for its key or starts a new flight led by it. Handler runs are capped,
/// retried inside the flight, and their one outcome goes to every caller.
/// </summary>
/// <typeparam name="TJob">The job type.</typeparam>
/// <typeparam name="TResult">The handler's result type.</typeparam>
/// <remarks>
/// Every call to an outcome store given to it goes through one circuit breaker (see <see cref="IOutcomeStoreMonitor"/>):
/// while the store is down, jobs that need it end as <see cref="JobStatus.Unavailable"/> without running. A
/// <see cref="MemoryOutcomeStore{TResult}"/> given to it is used as the built-in window is, without a breaker: it cannot
/// fail.
/// </remarks>
public sealed class JobDeduplicator<TJob, TResult> : IJobDeduplicator<TJob, TResult>, IOutcomeStoreMonitor, IAsyncDisposable
{
    private readonly JobDedupOptions<TJob> _options;
    private readonly Channel<JobWaiter<TJob, TResult>> _queue;
    private readonly FlightTable<string> _table = new(StringComparer.Ordinal);
    private readonly FlightCounters _counters = new();
    private readonly DeduplicatorMetrics _metrics;
    private readonly EngineLog _log;
    private readonly DedupeWindow<TResult>? _window;
    private StoreBreaker? _breaker;
    private readonly PendingCompletions<TResult>? _pending;
    private readonly TimeProvider _timeProvider;
    private readonly FlightRunner<TJob, TResult> _runner;
    private readonly ShutdownCoordinator<TJob, TResult> _shutdown;
    private readonly Dispatcher<TJob, TResult> _dispatch;
    private readonly Task _dispatcher;
    private readonly KeyPolicy _keyPolicy;
    private Task? _stopped;

    /// <summary>Initializes a new instance of the <see cref="JobDeduplicator{TJob, TResult}"/> class.</summary>
    /// <param name="handler">Runs one job per flight attempt.</param>
    /// <param name="options">Settings; the defaults when omitted. Read once, here.</param>
    /// <param name="loggerFactory">Where log events go; nowhere when omitted.</param>
    /// <param name="timeProvider">The clock for retries, timeouts and the dedupe window; the system clock when omitted.</param>
    /// <param name="outcomeStore">
    /// Where the dedupe window is kept when <see cref="JobDedupOptions{TJob}.DedupeWindow"/> is positive; an
    /// in-memory store holding <see cref="JobDedupOptions{TJob}.MaxRetainedOutcomes"/> outcomes when omitted (a
    /// <see cref="MemoryOutcomeStore{TResult}"/> given here keeps as many as its own capacity says).
    /// </param>
    /// <param name="meterFactory">
    /// Creates the <c>JobDedup</c> meter the deduplicator records on (with the library's version), so that its
    /// lifetime is the container's; a static meter is used when omitted. <c>AddJobDedup</c> passes the container's.
    /// </param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public JobDeduplicator(
        IJobHandler<TJob, TResult> handler,
        JobDedupOptions<TJob>? options = null,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null,
        IOutcomeStore<TResult>? outcomeStore = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _options = options ?? new JobDedupOptions<TJob>();
        _options.EnsureValid();
        _keyPolicy = _options.MaxKeyBytes == KeyPolicy.DefaultMaxKeyBytes ? KeyPolicy.Default : new KeyPolicy(_options.MaxKeyBytes);

        var time = timeProvider ?? TimeProvider.System;
        _timeProvider = time;
        _log = new EngineLog((loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("JobDedup.JobDeduplicator"), _options.Name);
        _metrics = new DeduplicatorMetrics(Instruments.For(meterFactory), _options.Name);
        var owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
        // Under the Reject policy a key busy on another instance is refused too, as a key in flight here is.
        var whenBusy = _options.OnDuplicate.Kind == DuplicatePolicyKind.Reject ? BusyKeyMode.Reject : _options.WhenKeyBusy;
        var claimSettings = new ClaimSettings(owner, _options.ClaimLease, _options.EffectiveClaimRenewInterval, whenBusy, time);
        var retention = new RetentionPolicy(_options.DedupeWindow, _options.Retention, _options.OnDuplicate);
        var inMemory = false;
        if (retention.KeepsAny)
        {
            // An in-memory store (the built-in one, or one given) cannot fail and answers at once: it needs no breaker.
            var store = outcomeStore switch
            {
                null => new MemoryOutcomeStore<TResult>(_options.MaxRetainedOutcomes, time),
                MemoryOutcomeStore<TResult> memory => memory,
                _ => Guard(outcomeStore, time),
            };
            inMemory = store is MemoryOutcomeStore<TResult>;
            _window = new DedupeWindow<TResult>(store, _table, retention, time, _log);
            if (_window.Claims is not null)
            {
                _pending = new PendingCompletions<TResult>(claimSettings, _options.StoreBreakDuration, _log);
            }
        }

        _shutdown = new ShutdownCoordinator<TJob, TResult>(_options.ShutdownTimeout, time, _log);
        _runner = new FlightRunner<TJob, TResult>(
            new AttemptRunner<TJob, TResult>(handler, _options, time, _counters, _metrics, _log),
            new HandlerSlots(_options.MaxConcurrentHandlers),
            _table,
            _window,
            _pending,
            claimSettings,
            _shutdown,
            _counters,
            _metrics,
            time,
            _options.AttemptTimeout,
            _log);

        _queue = Channel.CreateBounded<JobWaiter<TJob, TResult>>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
        _dispatch = new Dispatcher<TJob, TResult>(
            _queue.Reader, _table, _window, _runner, _shutdown, _counters, _metrics, _log, _options.MaxWaitersPerKey, _options.RunToCompletionWhenAbandoned,
            _options.OnDuplicate, time, _options.CallerRunsHandler, callerMayDispatch: _window is null || _window.Claims is not null || inMemory);
        _dispatcher = Task.Run(_dispatch.RunAsync);
    }

    /// <summary>Initializes a new instance of the <see cref="JobDeduplicator{TJob, TResult}"/> class with a delegate handler.</summary>
    /// <param name="handler">Runs one job per flight attempt.</param>
    /// <param name="options">Settings; the defaults when omitted. Read once, here.</param>
    /// <param name="loggerFactory">Where log events go; nowhere when omitted.</param>
    /// <param name="timeProvider">The clock for retries, timeouts and the dedupe window; the system clock when omitted.</param>
    /// <param name="outcomeStore">Where the dedupe window is kept; in memory when omitted.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public JobDeduplicator(
        Func<TJob, JobContext, CancellationToken, ValueTask<TResult>> handler,
        JobDedupOptions<TJob>? options = null,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null,
        IOutcomeStore<TResult>? outcomeStore = null)
        : this(new DelegateJobHandler<TJob, TResult>(handler ?? throw new ArgumentNullException(nameof(handler))), options, loggerFactory, timeProvider, outcomeStore)
    {
    }

    /// <inheritdoc/>
    public string Name => _options.Name;

    /// <summary>Gets the keys this deduplicator accepts (from <see cref="JobDedupOptions{TJob}.MaxKeyBytes"/>).</summary>
    public KeyPolicy KeyPolicy => _keyPolicy;

    /// <inheritdoc/>
    /// <remarks>Always <see cref="OutcomeStoreState.Available"/> without an outcome store of the caller's, or with a <see cref="MemoryOutcomeStore{TResult}"/> (an in-memory window cannot fail).</remarks>
    public OutcomeStoreState StoreState => _breaker?.State ?? OutcomeStoreState.Available;

    /// <inheritdoc/>
    public event EventHandler<OutcomeStoreState>? StoreStateChanged;

    /// <summary>Gets how many successful outcomes are kept here because the store has not taken them yet (they are tried again).</summary>
    internal int PendingCompletions => _pending?.Count ?? 0;

    /// <inheritdoc/>
    public ValueTask<JobOutcome<TResult>> EnqueueAsync(TJob job, CancellationToken cancellationToken = default)
    {
        var selector = _options.KeySelector ?? throw new InvalidOperationException(
            $"Deduplicator '{Name}' has no KeySelector: set JobDedupOptions.KeySelector or call EnqueueAsync(key, job).");
        var key = selector(job);
        if (!_keyPolicy.TryValidate(key, out var reason))
        {
            throw new ArgumentException($"The KeySelector of deduplicator '{Name}' returned an invalid key for this job: {reason}", nameof(job));
        }

        return EnqueueCore(key, job, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<JobOutcome<TResult>> EnqueueAsync(string key, TJob job, CancellationToken cancellationToken = default)
    {
        _keyPolicy.ThrowIfInvalid(key);
        return EnqueueCore(key, job, cancellationToken);
    }

    /// <inheritdoc/>
    public void Forget(string key)
    {
        _keyPolicy.ThrowIfInvalid(key);
        ObserveRemoval(ForgetCore(key), key);
    }

    /// <inheritdoc/>
    public async ValueTask ForgetAsync(string key, CancellationToken cancellationToken = default)
    {
        _keyPolicy.ThrowIfInvalid(key);
        await ForgetCore(key).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void ForgetAll()
    {
        _pending?.ForgetAll();
        if (_window is not null)
        {
            _ = _window.ForgetAll(); // logs its own failure
            return;
        }

        foreach (var owner in _table.Snapshot())
        {
            ForgetCore(owner.Key);
        }
    }

    /// <inheritdoc/>
    public DeduplicationStats GetStats() => _counters.Snapshot(_table.Count, _queue.Reader.Count);

    /// <inheritdoc/>
    public void ResetStats() => _counters.Reset();

    /// <inheritdoc/>
    public InFlightSnapshot GetInFlight(int hottest = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hottest);
        return InFlightView.Take<TJob, TResult>(_table.Snapshot(), _timeProvider.GetTimestamp(), _timeProvider, hottest);
    }

    /// <summary>
    /// Stops the deduplicator: later <c>EnqueueAsync</c> calls throw <see cref="ObjectDisposedException"/>, jobs still
    /// queued and flights not yet running end as <see cref="JobStatus.Canceled"/>, running handlers get
    /// <see cref="JobDedupOptions{TJob}.ShutdownTimeout"/> to finish, then their tokens fire and their callers get a
    /// canceled outcome. Calling it again waits for the same stop.
    /// </summary>
    /// <param name="cancellationToken">Cuts the wait for running handlers short.</param>
    /// <returns>A task that completes when every caller has an outcome.</returns>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _stopped) is { } stopping)
        {
            return stopping;
        }

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _stopped, stop.Task, null) is { } other)
        {
            return other;
        }

        _ = StopCoreAsync(stop, cancellationToken);
        return stop.Task;
    }

    /// <summary>Stops the deduplicator (see <see cref="StopAsync"/>) with no limit but the shutdown timeout.</summary>
    /// <returns>A task that completes when every caller has an outcome.</returns>
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    private Task ForgetCore(string key)
    {
        _pending?.Forget(key);
        return _window?.Forget(key) ?? ForgetBarrier<string>.Install(_table, key, DedupeWindow<TResult>.ForgetOwners, remove: null).Removed;
    }

    private static async ValueTask ProbeAsync(IOutcomeStore<TResult> store, string scope, CancellationToken cancellationToken) =>
        _ = await store.TryGetAsync(scope, StoreBreaker.ProbeKey, cancellationToken).ConfigureAwait(false);

    /// <summary>Puts the caller's store behind the deduplicator's circuit breaker.</summary>
    private IOutcomeStore<TResult> Guard(IOutcomeStore<TResult> store, TimeProvider time)
    {
        var breaker = new StoreBreaker(
            _options.StoreFailureRatio, _options.StoreMinimumThroughput, _options.StoreSamplingDuration, _options.StoreBreakDuration, time, _log);
        var scope = _options.Name;
        breaker.UseProbe(ct => ProbeAsync(store, scope, ct));
        breaker.Changed += state => StoreStateChanged?.Invoke(this, state);
        _breaker = breaker;
        return store is IClaimingOutcomeStore<TResult> claims
            ? new GuardedClaimingStore<TResult>(claims, breaker)
            : new GuardedOutcomeStore<TResult>(store, breaker);
    }

    private async Task StopCoreAsync(TaskCompletionSource stop, CancellationToken cancellationToken)
    {
        var started = _timeProvider.GetTimestamp();
        try
        {
            await _shutdown.StopAsync(
                () =>
                {
                    _queue.Writer.TryComplete();
                    return DrainAsync();
                },
                flight => _runner.Complete(flight, JobDeduplicatorOutcomes.ShuttingDown<TResult>(flight.Key, JobRole.Leader, flight.Attempts)),
                cancellationToken).ConfigureAwait(false);
            if (_pending is not null)
            {
                // Outcomes the store has not taken yet get what is left of the shutdown timeout, not more: a store that
                // stays down must not hold the stop.
                var left = _options.ShutdownTimeout - _timeProvider.GetElapsedTime(started);
                await _pending.DrainAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                _pending.Dispose();
            }

            _breaker?.Dispose();
            stop.TrySetResult();
        }
        catch (Exception ex)
        {
            stop.TrySetException(ex);
        }
    }

    /// <summary>
    /// Waits until the dispatcher has read the closed queue to its end, and until a caller deciding for its own job
    /// (which began before shutdown did) is done: every flight either was started and is known to shutdown, or will
    /// never be.
    /// </summary>
    private async Task DrainAsync()
    {
        await _dispatcher.ConfigureAwait(false);
        await _dispatch.WaitForTurnAsync().ConfigureAwait(false);
    }

    private void ObserveRemoval(Task removal, string key)
    {
        if (removal.IsCompletedSuccessfully)
        {
            return;
        }

        _ = removal.ContinueWith(
            static (t, state) =>
            {
                var (log, key) = ((EngineLog, string))state!;
                log.Write(static (logger, name, s) => Log.OutcomeRemoveFailed(logger, name, s.key, s.Exception!), (key, Exception: t.Exception?.InnerException));
            },
            (_log, key),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private ValueTask<JobOutcome<TResult>> EnqueueCore(string key, TJob job, CancellationToken cancellationToken)
    {
        ThrowIfStopping();
        if (cancellationToken.IsCancellationRequested)
        {
            return new(JobOutcome<TResult>.Canceled(key, new OperationCanceledException(cancellationToken), JobRole.None, 0));
        }

        string? fingerprint = null;
        if (_options.Fingerprint is { } fingerprinter && !TryFingerprint(fingerprinter, key, job, out fingerprint, out var refused))
        {
            return new(refused);
        }

        var waiter = new JobWaiter<TJob, TResult>(key, job) { Fingerprint = fingerprint };
        waiter.RegisterCancellation(cancellationToken);
        if (_dispatch.TryDispatchNow(waiter, out var ledHere))
        {
            if (ledHere is not null)
            {
                // CallerRunsHandler: this caller leads a new flight and runs it, up to the handler's first await.
                _ = _runner.RunAsync(ledHere);
            }

            return new(waiter.Task);
        }

        if (_queue.Writer.TryWrite(waiter))
        {
            _metrics.Queued(1);
            return new(waiter.Task);
        }

        if (_shutdown.IsStopping)
        {
            waiter.Complete(JobDeduplicatorOutcomes.ShuttingDown<TResult>(key, JobRole.None, 0));
            return new(waiter.Task);
        }

        if (_options.QueueFullMode == QueueFullMode.Reject)
        {
            waiter.Complete(JobOutcome<TResult>.Rejected(key, new JobRejectedException(
                $"The queue of deduplicator '{Name}' is full ({_options.QueueCapacity} jobs); the job was not accepted.")));
            return new(waiter.Task);
        }

        return EnqueueWhenRoomAsync(waiter, cancellationToken);
    }

    /// <summary>Computes a job's payload fingerprint, once, on the caller's thread; a function that throws fails the job without running it.</summary>
    private bool TryFingerprint(Func<TJob, string> fingerprinter, string key, TJob job, out string? fingerprint, out JobOutcome<TResult> refused)
    {
        try
        {
            fingerprint = fingerprinter(job);
            refused = default;
            return true;
        }
        catch (Exception ex)
        {
            fingerprint = null;
            refused = JobOutcome<TResult>.Failed(key, new PermanentFailureException(
                $"The Fingerprint function of deduplicator '{Name}' threw for key '{key}' ({ex.GetType().Name}: {ex.Message}); the job did not run.", ex), JobRole.None, 0);
            _counters.Error();
            _metrics.Completed(JobStatus.Failed);
            _log.Write(static (logger, name, s) => Log.FingerprintFailed(logger, name, s.key, s.ex), (key, ex));
            return false;
        }
    }

    private async ValueTask<JobOutcome<TResult>> EnqueueWhenRoomAsync(JobWaiter<TJob, TResult> waiter, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.Writer.WriteAsync(waiter, cancellationToken).ConfigureAwait(false);
            _metrics.Queued(1);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            // Usually the token's registration already delivered this.
            waiter.Complete(JobOutcome<TResult>.Canceled(waiter.Key, ex, JobRole.None, 0));
        }
        catch (ChannelClosedException)
        {
            waiter.Complete(JobDeduplicatorOutcomes.ShuttingDown<TResult>(waiter.Key, JobRole.None, 0));
        }

        return await waiter.Task.ConfigureAwait(false);
    }

    private void ThrowIfStopping()
    {
        if (_shutdown.IsStopping)
        {
            throw new ObjectDisposedException(
                $"JobDeduplicator '{Name}'",
                $"Deduplicator '{Name}' is stopping or stopped and accepts no more jobs.");
        }
    }
}
