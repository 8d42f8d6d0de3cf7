using Polly;

namespace JobDedup;

/// <summary>Settings of one <see cref="JobDeduplicator{TJob, TResult}"/>. Checked when the deduplicator is built.</summary>
/// <typeparam name="TJob">The job type.</typeparam>
public sealed class JobDedupOptions<TJob>
{
    /// <summary>Gets or sets the deduplicator's name. Keys are scoped to it, so two deduplicators never collide.</summary>
    /// <value>The default is <c>"default"</c>. With dependency injection, the name given to <c>AddJobDedup</c>.</value>
    public string Name { get; set; } = "default";

    /// <summary>Gets or sets the function that gives a job's dedupe key, used by <c>EnqueueAsync(job)</c>.</summary>
    /// <value>The default is <see langword="null"/>: only <c>EnqueueAsync(key, job)</c> can be used.</value>
    public Func<TJob, string>? KeySelector { get; set; }

    /// <summary>
    /// Gets or sets the longest dedupe key accepted, in UTF-8 bytes. A longer key, or one holding a control character,
    /// a line or paragraph separator or a lone surrogate, is refused (see <see cref="KeyPolicy"/>): <c>EnqueueAsync</c>
    /// throws <see cref="ArgumentException"/>, and a message consumer dead-letters the message as <c>invalid-key</c>.
    /// </summary>
    /// <value>The default is 1024 (<see cref="KeyPolicy.DefaultMaxKeyBytes"/>); at most 65,536.</value>
    public int MaxKeyBytes { get; set; } = KeyPolicy.DefaultMaxKeyBytes;

    /// <summary>Gets or sets how many jobs may wait for the dispatcher.</summary>
    /// <value>The default is 1024.</value>
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>Gets or sets what happens when the queue is full.</summary>
    /// <value>The default is <see cref="QueueFullMode.Wait"/>.</value>
    public QueueFullMode QueueFullMode { get; set; } = QueueFullMode.Wait;

    /// <summary>Gets or sets how many handler runs may be in progress at once. Flights waiting for a slot still accept joiners.</summary>
    /// <value>The default is 64.</value>
    public int MaxConcurrentHandlers { get; set; } = 64;

    /// <summary>Gets or sets how many callers may wait on one key; the next ones are <see cref="JobStatus.Rejected"/>.</summary>
    /// <value>The default is 100,000.</value>
    public int MaxWaitersPerKey { get; set; } = 100_000;

    /// <summary>
    /// Gets or sets how many times a failed attempt is retried inside the flight (0 turns retries off). A message
    /// consumer multiplies the attempts by its deliveries: see its <c>MaxHandlerRunsPerMessage</c>.
    /// </summary>
    /// <value>The default is 1: two attempts.</value>
    public int MaxRetryAttempts { get; set; } = 1;

    /// <summary>Gets or sets the delay before the first retry; later retries back off exponentially.</summary>
    /// <value>The default is 200 milliseconds.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Gets or sets the longest delay between retries.</summary>
    /// <value>The default is 30 seconds.</value>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets a value indicating whether retry delays are jittered so that many flights do not retry in step.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool RetryJitter { get; set; } = true;

    /// <summary>
    /// Gets or sets which failures are permanent: they will recur on every attempt, so they are never retried, neither
    /// by the in-process retries nor by a message consumer, which dead-letters the message at once. A classifier that
    /// throws counts as "not permanent".
    /// </summary>
    /// <value>
    /// The default is <see langword="null"/>: <see cref="FailureClassification.IsPermanentByDefault"/> (argument, format,
    /// cast and not-supported errors, and <see cref="PermanentFailureException"/>). To add to it, return
    /// <c>FailureClassification.IsPermanentByDefault(ex) || ...</c>.
    /// </value>
    public Func<Exception, bool>? IsPermanentFailure { get; set; }

    /// <summary>
    /// Gets or sets which transient failures are worth another in-process attempt (for example to leave some to the
    /// message consumer's delayed redeliveries). A cancellation and a permanent failure
    /// (<see cref="IsPermanentFailure"/>) are never retried, whatever this says.
    /// </summary>
    /// <value>The default is <see langword="null"/>: every failure that is not permanent is retried.</value>
    public Func<Exception, bool>? ShouldRetry { get; set; }

    /// <summary>Gets or sets the time one attempt may take; a handler still running then is canceled and the attempt fails.</summary>
    /// <value>The default is <see langword="null"/>: no limit.</value>
    public TimeSpan? AttemptTimeout { get; set; }

    /// <summary>
    /// Gets or sets a resilience pipeline to run the handler in instead of the one built from the retry and timeout
    /// settings above (which are then ignored).
    /// </summary>
    /// <value>The default is <see langword="null"/>.</value>
    public ResiliencePipeline? ResiliencePipeline { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a handler keeps running after every caller of its flight has left,
    /// so that its result can still be kept for the dedupe window.
    /// </summary>
    /// <value>The default is <see langword="false"/>: the handler's token fires when the last caller leaves.</value>
    public bool RunToCompletionWhenAbandoned { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a caller whose job starts a new flight runs the handler itself, on its
    /// own thread up to the handler's first <c>await</c>, as a direct call would, instead of handing the run to the
    /// thread pool. A handler that completes without waiting then answers its caller with no thread switch at all.
    /// </summary>
    /// <remarks>
    /// Suits callers that wait for their outcome at once anyway, such as an HTTP request running its own endpoint
    /// (the idempotency layer of JobDedup.AspNetCore turns it on). Leave it off where the caller must not be held up by
    /// a handler that works before it first awaits, such as a message consumer enqueueing delivery after delivery: its
    /// next <c>EnqueueAsync</c> would wait for that work. Joined callers, and flights started by the dispatcher for
    /// queued jobs, are unaffected; the handler still runs in the flight, with its retries, timeout and handler slot.
    /// The caller is held until the handler first awaits, whatever its token does meanwhile (its outcome is then
    /// already there). The flight runs in that caller's ambient context (its <c>AsyncLocal</c> values), as with
    /// <c>SharedCall</c>; a retry after that caller left runs the next caller's job in it. A caller with a
    /// synchronization context or task scheduler of its own never runs the handler, and the option does nothing under
    /// <see cref="DuplicatePolicy.Replace"/>, <see cref="DuplicatePolicy.KeepLatest"/> and <c>Debounce</c>, where the job a
    /// flight runs may become a later caller's before it starts.
    /// </remarks>
    /// <value>The default is <see langword="false"/>.</value>
    public bool CallerRunsHandler { get; set; }

    /// <summary>
    /// Gets or sets how long a successful outcome is remembered after its flight ends. Within it, a duplicate gets the
    /// outcome back (<see cref="JobRole.Replayed"/>) without a handler run. Failures are not remembered, unless
    /// <see cref="Retention"/> or a <see cref="DuplicatePolicy.Throttle"/> policy says otherwise.
    /// </summary>
    /// <value>The default is <see cref="TimeSpan.Zero"/>: only jobs in flight are deduplicated.</value>
    public TimeSpan DedupeWindow { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Gets or sets the function that gives a job's payload fingerprint: a stable hash of what the job asks for (see
    /// <see cref="JobFingerprint"/>). It is kept with the flight and with the outcome in the dedupe window, in every
    /// store. A duplicate whose key matches but whose fingerprint differs is neither joined nor replayed: it ends as
    /// <see cref="JobStatus.Conflict"/> (a message consumer dead-letters it as <c>payload-mismatch</c>).
    /// </summary>
    /// <value>The default is <see langword="null"/>: payloads are not compared.</value>
    public Func<TJob, string>? Fingerprint { get; set; }

    /// <summary>Gets or sets what happens to a job whose key is already in flight (see <see cref="DuplicatePolicy"/>).</summary>
    /// <value>The default is <see cref="DuplicatePolicy.Join"/>.</value>
    public DuplicatePolicy OnDuplicate { get; set; } = DuplicatePolicy.Join;

    /// <summary>
    /// Gets or sets the retention classifier: how long a finished run's outcome is kept in the dedupe window, by its
    /// class. It is asked once per run that succeeded or failed (never for a canceled, rejected or unavailable job),
    /// after the run, and returns the time to keep the outcome (at most 365 days; a longer answer is cut to that), or
    /// <see langword="null"/>, zero or less to keep nothing. A classifier that throws keeps nothing, and its exception
    /// is logged. Kept failures are replayed as <see cref="JobStatus.Failed"/> (<see cref="JobRole.Replayed"/>) with a
    /// <see cref="ReplayedFailureException"/>, from every store. Under a <see cref="DuplicatePolicy.Throttle"/> policy,
    /// what the throttle covers is kept for at least its window.
    /// </summary>
    /// <value>
    /// The default is <see langword="null"/>: a success is kept for <see cref="DedupeWindow"/>, a failure is never kept.
    /// </value>
    public Func<OutcomeRetentionContext, TimeSpan?>? Retention { get; set; }

    /// <summary>Gets or sets how many outcomes the in-memory dedupe window keeps; the oldest is evicted first.</summary>
    /// <value>The default is 10,000.</value>
    public int MaxRetainedOutcomes { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets how long a claim on a key holds in a claiming (durable) outcome store without renewal: an instance
    /// that stalls or is cut off from the store for this long loses the key to another instance. It is renewed every
    /// <see cref="ClaimRenewInterval"/> while the handler runs. A store that sees an owner die (its PostgreSQL session
    /// or Redis heartbeat gone) lets another instance take the key over sooner than this.
    /// </summary>
    /// <value>The default is 30 seconds.</value>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how often a held claim is renewed; one renewal may take this long. A claim whose renewals fail for
    /// a whole <see cref="ClaimLease"/>, or that the store says another claim now holds, is lost: the handler's token
    /// fires with a <see cref="ClaimLostException"/>. Must be shorter than the lease.
    /// </summary>
    /// <value>The default is <see langword="null"/>: a third of <see cref="ClaimLease"/>.</value>
    public TimeSpan? ClaimRenewInterval { get; set; }

    /// <summary>Gets the renewal interval in effect: <see cref="ClaimRenewInterval"/>, or a third of the lease.</summary>
    internal TimeSpan EffectiveClaimRenewInterval => ClaimRenewInterval ?? ClaimLease / 3;

    /// <summary>Gets or sets what a flight does when another instance holds its key in a claiming outcome store.</summary>
    /// <value>The default is <see cref="BusyKeyMode.Wait"/>.</value>
    public BusyKeyMode WhenKeyBusy { get; set; } = BusyKeyMode.Wait;

    /// <summary>Gets or sets how long shutdown lets running handlers finish before canceling them.</summary>
    /// <value>The default is 30 seconds.</value>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets the share of outcome-store calls that must fail, within <see cref="StoreSamplingDuration"/>, for the
    /// deduplicator to pause its calls to the store (<see cref="OutcomeStoreState.Unavailable"/>). Only the store's own
    /// failures count; a handler's never do.
    /// </summary>
    /// <value>The default is 0.5. Between 0 (excluded) and 1.</value>
    public double StoreFailureRatio { get; set; } = 0.5;

    /// <summary>Gets or sets how many outcome-store calls must be made within <see cref="StoreSamplingDuration"/> before their failures can pause the store.</summary>
    /// <value>The default is 5. At least 2.</value>
    public int StoreMinimumThroughput { get; set; } = 5;

    /// <summary>Gets or sets the span of time over which outcome-store failures are counted.</summary>
    /// <value>The default is 10 seconds. Between 500 milliseconds and 1 day.</value>
    public TimeSpan StoreSamplingDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how long calls to the outcome store stay paused once its failures passed
    /// <see cref="StoreFailureRatio"/>; then one trial call tests it, and the pause starts again if that fails.
    /// </summary>
    /// <value>The default is 5 seconds. Between 500 milliseconds and 1 day.</value>
    public TimeSpan StoreBreakDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Lists what is wrong with these settings, each message naming its option.</summary>
    /// <returns>The problems; empty when the settings are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Name))
        {
            errors.Add($"{nameof(Name)} must not be empty.");
        }

        if (MaxKeyBytes is < 1 or > KeyPolicy.LargestMaxKeyBytes)
        {
            errors.Add($"{nameof(MaxKeyBytes)} must be between 1 and {KeyPolicy.LargestMaxKeyBytes}, not {MaxKeyBytes}.");
        }

        Positive(errors, nameof(QueueCapacity), QueueCapacity);
        Positive(errors, nameof(MaxConcurrentHandlers), MaxConcurrentHandlers);
        Positive(errors, nameof(MaxWaitersPerKey), MaxWaitersPerKey);
        Positive(errors, nameof(MaxRetainedOutcomes), MaxRetainedOutcomes);
        if (!Enum.IsDefined(QueueFullMode))
        {
            errors.Add($"{nameof(QueueFullMode)} must be Wait or Reject, not {QueueFullMode}.");
        }

        if (MaxRetryAttempts is < 0 or > 100)
        {
            errors.Add($"{nameof(MaxRetryAttempts)} must be between 0 and 100, not {MaxRetryAttempts}.");
        }

        if (RetryDelay < TimeSpan.Zero || RetryDelay > TimeSpan.FromDays(1))
        {
            errors.Add($"{nameof(RetryDelay)} must be between 0 and 1 day, not {RetryDelay}.");
        }

        if (RetryMaxDelay < RetryDelay || RetryMaxDelay > TimeSpan.FromDays(1))
        {
            errors.Add($"{nameof(RetryMaxDelay)} must be at least {nameof(RetryDelay)} and at most 1 day, not {RetryMaxDelay}.");
        }

        if (AttemptTimeout is { } timeout && (timeout < TimeSpan.FromMilliseconds(10) || timeout > TimeSpan.FromDays(1)))
        {
            errors.Add($"{nameof(AttemptTimeout)} must be between 10 ms and 1 day when set, not {timeout}.");
        }

        if (OnDuplicate is null)
        {
            errors.Add($"{nameof(OnDuplicate)} must be set (the default is DuplicatePolicy.Join).");
        }

        if (DedupeWindow < TimeSpan.Zero)
        {
            errors.Add($"{nameof(DedupeWindow)} must not be negative, not {DedupeWindow}.");
        }

        if (ClaimLease < TimeSpan.FromSeconds(1) || ClaimLease > TimeSpan.FromDays(1))
        {
            errors.Add($"{nameof(ClaimLease)} must be between 1 second and 1 day, not {ClaimLease}.");
        }

        if (ClaimRenewInterval is { } renew && (renew < TimeSpan.FromMilliseconds(100) || renew >= ClaimLease))
        {
            errors.Add($"{nameof(ClaimRenewInterval)} must be at least 100 ms and shorter than {nameof(ClaimLease)} ({ClaimLease}) when set, not {renew}.");
        }

        if (!Enum.IsDefined(WhenKeyBusy))
        {
            errors.Add($"{nameof(WhenKeyBusy)} must be Wait or Reject, not {WhenKeyBusy}.");
        }

        if (ShutdownTimeout < TimeSpan.Zero)
        {
            errors.Add($"{nameof(ShutdownTimeout)} must not be negative, not {ShutdownTimeout}.");
        }

        if (!(StoreFailureRatio > 0 && StoreFailureRatio <= 1))
        {
            errors.Add($"{nameof(StoreFailureRatio)} must be greater than 0 and at most 1, not {StoreFailureRatio}.");
        }

        if (StoreMinimumThroughput < 2)
        {
            errors.Add($"{nameof(StoreMinimumThroughput)} must be at least 2, not {StoreMinimumThroughput}.");
        }

        Between(errors, nameof(StoreSamplingDuration), StoreSamplingDuration, TimeSpan.FromMilliseconds(500), TimeSpan.FromDays(1));
        Between(errors, nameof(StoreBreakDuration), StoreBreakDuration, TimeSpan.FromMilliseconds(500), TimeSpan.FromDays(1));
        return errors;
    }

    /// <summary>Throws when the settings are invalid, naming each wrong option.</summary>
    /// <exception cref="ArgumentException">At least one setting is invalid.</exception>
    public void EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException($"Invalid JobDedup options for '{Name}': {string.Join(" ", errors)}", "options");
        }
    }

    private static void Between(List<string> errors, string name, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            errors.Add($"{name} must be between {min} and {max}, not {value}.");
        }
    }

    private static void Positive(List<string> errors, string name, int value)
    {
        if (value <= 0)
        {
            errors.Add($"{name} must be greater than 0, not {value}.");
        }
    }
}
