using System.Threading.Channels;
using JobDedup.Flights;
using JobDedup.Pipeline;
using JobDedup.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;

namespace JobDedup;

/// <summary>
/// The job pipeline: callers enqueue jobs into a bounded queue; one dispatcher owns the in-flight map and either
/// joins a job to the flight already running for its key or starts a new flight led by it. Handler runs are capped,
/// retried inside the flight, and their one outcome goes to every caller.
/// </summary>
/// <typeparam name="TJob">The job type.</typeparam>
/// <typeparam name="TResult">The handler's result type.</typeparam>
public sealed partial class JobDeduplicator<TJob, TResult> : IJobDeduplicator<TJob, TResult>, IAsyncDisposable
{
    private readonly IJobHandler<TJob, TResult> _handler;
    private readonly JobDedupOptions<TJob> _options;
    private readonly Func<TJob, string>? _keySelector;
    private readonly Channel<JobWaiter<TJob, TResult>> _queue;
    private readonly FlightTable<string, JobFlight<TJob, TResult>> _flights = new(StringComparer.Ordinal);
    private readonly FlightCounters _counters = new();
    private readonly SemaphoreSlim _handlerSlots;
    private readonly ResiliencePipeline _pipeline;
    private readonly IOutcomeStore<TResult>? _store;
    private readonly IClaimingOutcomeStore<TResult>? _claims;
    private readonly string _owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly DeduplicatorMetrics _metrics;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> _leftBehind = new(StringComparer.Ordinal);
    private int _leftBehindCount;
    private readonly Task _dispatcher;

    /// <summary>Initializes a new instance of the <see cref="JobDeduplicator{TJob, TResult}"/> class.</summary>
    /// <param name="handler">Runs one job per flight attempt.</param>
    /// <param name="options">Settings; the defaults when omitted. Read once, here.</param>
    /// <param name="loggerFactory">Where log events go; nowhere when omitted.</param>
    /// <param name="timeProvider">The clock for retries, timeouts and the dedupe window; the system clock when omitted.</param>
    /// <param name="outcomeStore">
    /// Where the dedupe window is kept when <see cref="JobDedupOptions{TJob}.CompletedRetention"/> is positive; an
    /// in-memory store holding <see cref="JobDedupOptions{TJob}.MaxRetainedOutcomes"/> outcomes when omitted.
    /// </param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public JobDeduplicator(
        IJobHandler<TJob, TResult> handler,
        JobDedupOptions<TJob>? options = null,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null,
        IOutcomeStore<TResult>? outcomeStore = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _options = options ?? new JobDedupOptions<TJob>();
        _options.EnsureValid();

        _handler = handler;
        _keySelector = _options.KeySelector;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("JobDedup.JobDeduplicator");
        _metrics = new DeduplicatorMetrics(_options.Name);
        _handlerSlots = new SemaphoreSlim(_options.MaxConcurrentHandlers, _options.MaxConcurrentHandlers);
        _pipeline = HandlerPipeline.Create(_options, _timeProvider, OnRetry);
        if (_options.CompletedRetention > TimeSpan.Zero)
        {
            _store = outcomeStore ?? new MemoryOutcomeStore<TResult>(_options.MaxRetainedOutcomes, _timeProvider);
            _claims = _store as IClaimingOutcomeStore<TResult>;
        }

        _queue = Channel.CreateBounded<JobWaiter<TJob, TResult>>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
        _dispatcher = Task.Run(DispatchLoopAsync);
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

    /// <inheritdoc/>
    public ValueTask<JobOutcome<TResult>> EnqueueAsync(TJob job, CancellationToken cancellationToken = default)
    {
        var selector = _keySelector ?? throw new InvalidOperationException(
            $"Deduplicator '{Name}' has no KeySelector: set JobDedupOptions.KeySelector or call EnqueueAsync(key, job).");
        var key = selector(job);
        if (string.IsNullOrEmpty(key))
        {
            throw new ArgumentException($"The KeySelector of deduplicator '{Name}' returned a null or empty key for this job.", nameof(job));
        }

        return EnqueueCore(key, job, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<JobOutcome<TResult>> EnqueueAsync(string key, TJob job, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return EnqueueCore(key, job, cancellationToken);
    }

    /// <inheritdoc/>
    public void Forget(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        _flights.Forget(key);
        if (_store is not null)
        {
            ObserveStoreCall(_store.RemoveAsync(Name, key, CancellationToken.None), key);
        }
    }

    /// <inheritdoc/>
    public void ForgetAll()
    {
        _flights.ForgetAll();
        if (_store is not null)
        {
            ObserveStoreCall(_store.ClearAsync(Name, CancellationToken.None), key: "*");
        }
    }

    /// <inheritdoc/>
    public DeduplicationStats GetStats() => _counters.Snapshot(_flights.Count, _queue.Reader.Count);

    /// <inheritdoc/>
    public void ResetStats() => _counters.Reset();

    internal void RemoveFlight(JobFlight<TJob, TResult> flight) => _flights.Remove(flight);

    private ValueTask<JobOutcome<TResult>> EnqueueCore(string key, TJob job, CancellationToken cancellationToken)
    {
        ThrowIfStopping();
        if (cancellationToken.IsCancellationRequested)
        {
            return new(JobOutcome<TResult>.Canceled(key, new OperationCanceledException(cancellationToken), JobRole.None, 0));
        }

        var waiter = new JobWaiter<TJob, TResult>(key, job);
        waiter.RegisterCancellation(cancellationToken);
        if (_queue.Writer.TryWrite(waiter))
        {
            _metrics.Queued(1);
            return new(waiter.Task);
        }

        if (IsStopping)
        {
            waiter.Complete(ShuttingDown(key, JobRole.None, 0));
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
            waiter.Complete(ShuttingDown(waiter.Key, JobRole.None, 0));
        }

        return await waiter.Task.ConfigureAwait(false);
    }

    private void OnRetry(OnRetryArguments<object> args)
    {
        _counters.Retry();
        _metrics.Retried();
        var key = args.Context.Properties.GetValue(KeyProperty, string.Empty);
        LogSafely(
            static (logger, s) => Log.AttemptFailed(logger, s.Name, s.key, s.Attempt, s.RetryDelay, s.Exception),
            (Name, key, Attempt: args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception));
    }

    private void ObserveStoreCall(ValueTask pending, string key)
    {
        if (pending.IsCompletedSuccessfully)
        {
            return;
        }

        _ = ObserveAsync(pending, key);

        async Task ObserveAsync(ValueTask call, string forgotten)
        {
            try
            {
                await call.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogSafely(static (logger, s) => Log.OutcomeRemoveFailed(logger, s.Name, s.forgotten, s.ex), (Name, forgotten, ex));
            }
        }
    }
}
