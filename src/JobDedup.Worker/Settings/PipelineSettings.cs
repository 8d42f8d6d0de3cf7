namespace JobDedup.Worker.Settings;

/// <summary>One pipeline: a queue, how its messages are keyed, how long outcomes are remembered, and the handler.</summary>
public sealed class PipelineSettings
{
    /// <summary>Gets or sets the queue to consume. Required.</summary>
    public string Queue { get; set; } = string.Empty;

    /// <summary>Gets or sets where a message's dedupe key comes from.</summary>
    public KeySettings Key { get; set; } = new();

    /// <summary>Gets or sets a value indicating whether duplicates are coalesced at all (false gives every message its own key).</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool Deduplicate { get; set; } = true;

    /// <summary>
    /// Gets or sets what is compared besides the key: a message whose key is running, or kept in the dedupe window,
    /// with a different fingerprint is not a duplicate but another job under a used key, and is dead-lettered at once
    /// with reason <c>payload-mismatch</c>. The fingerprint is kept with the outcome in every store.
    /// </summary>
    /// <value>The default is <see cref="PayloadFingerprint.None"/>: the key alone decides.</value>
    public PayloadFingerprint Fingerprint { get; set; } = PayloadFingerprint.None;

    /// <summary>Gets or sets how long a successful outcome answers later duplicates without a new run.</summary>
    /// <value>The default is zero: only messages in flight are coalesced.</value>
    public TimeSpan DedupeWindow { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Gets or sets what happens to a message whose key is already in flight: <c>Join</c> (it shares the run),
    /// <c>Reject</c> (it is parked and comes back later), <c>Replace</c> (its body replaces that of a run not started
    /// yet), <c>KeepLatest</c> (one more run after the current one, with the latest body) or <c>Debounce</c> (the run
    /// starts once the key was quiet for <see cref="DebounceDelay"/>, at most <see cref="DebounceMaxWait"/> after the
    /// first message). See docs/engine.md, "What happens to a duplicate".
    /// </summary>
    /// <value>The default is <c>Join</c>.</value>
    public DuplicatePolicyKind OnDuplicate { get; set; } = DuplicatePolicyKind.Join;

    /// <summary>Gets or sets, for <c>OnDuplicate: Debounce</c>, how long the key must be quiet before its run starts. Required there.</summary>
    /// <value>The default is <see langword="null"/>.</value>
    public TimeSpan? DebounceDelay { get; set; }

    /// <summary>
    /// Gets or sets, for <c>OnDuplicate: Debounce</c>, the longest a run waits after its first message: at least
    /// <see cref="DebounceDelay"/>, at most 1 day. Required there.
    /// </summary>
    /// <value>The default is <see langword="null"/>.</value>
    public TimeSpan? DebounceMaxWait { get; set; }

    /// <summary>
    /// Gets or sets a PostgreSQL connection string to keep the dedupe window in, shared by every worker on that
    /// database and kept across restarts (see docs/postgresql.md). Needs a <see cref="DedupeWindow"/>. A message whose
    /// key another worker is running is parked and comes back later, to be answered from the window.
    /// </summary>
    /// <value>The default is <see langword="null"/>: the window is kept in this process's memory.</value>
    public string? PostgreSql { get; set; }

    /// <summary>
    /// Gets or sets a Redis configuration string (<c>host:port</c>, StackExchange.Redis syntax) to keep the dedupe
    /// window in, shared by every worker on that server (see docs/caching.md). Needs a <see cref="DedupeWindow"/>; not
    /// together with <see cref="PostgreSql"/>. A message whose key another worker is running is parked and comes back
    /// later, to be answered from the window.
    /// </summary>
    /// <value>The default is <see langword="null"/>: the window is kept in this process's memory (or in PostgreSQL).</value>
    public string? Redis { get; set; }

    /// <summary>
    /// Gets or sets how long a worker's claim on a key in the shared store (<see cref="PostgreSql"/> or
    /// <see cref="Redis"/>) holds without renewal: a worker cut off from the store or stalled this long loses its keys
    /// to another worker, and its handlers are canceled. A worker that dies is noticed sooner (its PostgreSQL session
    /// or Redis heartbeat ends), so this bounds the takeover only when the store cannot see the death. Between 1 second
    /// and 1 day.
    /// </summary>
    /// <value>The default is 30 seconds.</value>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how often a held claim is renewed (one renewal may take this long). At least 100 ms and shorter
    /// than <see cref="ClaimLease"/>.
    /// </summary>
    /// <value>The default is <see langword="null"/>: a third of <see cref="ClaimLease"/>.</value>
    public TimeSpan? ClaimRenewInterval { get; set; }

    /// <summary>
    /// Gets or sets the share of calls to the outcome store (<see cref="PostgreSql"/> or <see cref="Redis"/>) that must
    /// fail within <see cref="StoreSamplingDuration"/> for the pipeline to pause its calls to the store and its intake.
    /// More than 0 and at most 1.
    /// </summary>
    /// <value>The default is 0.5.</value>
    public double StoreFailureRatio { get; set; } = 0.5;

    /// <summary>Gets or sets how many outcome-store calls must be made within <see cref="StoreSamplingDuration"/> before their failures can pause the store. At least 2.</summary>
    /// <value>The default is 5.</value>
    public int StoreMinimumThroughput { get; set; } = 5;

    /// <summary>Gets or sets the span of time over which outcome-store failures are counted. Between 500 milliseconds and 1 day.</summary>
    /// <value>The default is 10 seconds.</value>
    public TimeSpan StoreSamplingDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how long calls to the outcome store stay paused once its failures passed
    /// <see cref="StoreFailureRatio"/>; then one trial call tests it. Between 500 milliseconds and 1 day.
    /// </summary>
    /// <value>The default is 5 seconds.</value>
    public TimeSpan StoreBreakDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets a value indicating whether the window is kept in a store every worker shares.</summary>
    internal bool HasSharedStore => PostgreSql is not null || Redis is not null;

    /// <summary>
    /// Gets or sets the retries inside one delivery: for an HTTP handler, retries of the request (after the endpoint's
    /// <c>Retry-After</c> when it sends one); for the others, handler attempts. A permanent failure is never retried.
    /// </summary>
    /// <value>The default is 1.</value>
    public int MaxRetryAttempts { get; set; } = 1;

    /// <summary>Gets or sets the delay before the first in-process retry (exponential after it).</summary>
    /// <value>The default is 200 milliseconds.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Gets or sets how long one handler attempt may take (for an HTTP handler: its requests and retries together).</summary>
    /// <value>The default is 30 seconds.</value>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how many deliveries a message gets before it is dead-lettered.</summary>
    /// <value>The default is 3.</value>
    public int MaxDeliveryAttempts { get; set; } = 3;

    /// <summary>
    /// Gets or sets the most handler runs (HTTP requests, for an HTTP handler) one message may cause:
    /// (<see cref="MaxRetryAttempts"/> + 1) × <see cref="MaxDeliveryAttempts"/> must not exceed it.
    /// </summary>
    /// <value>The default is 6: 2 tries per delivery times 3 deliveries.</value>
    public int MaxHandlerRunsPerMessage { get; set; } = 6;

    /// <summary>Gets or sets the waits before a failed message comes back (one retry queue each).</summary>
    /// <value>The default is 1 s, 10 s and 60 s.</value>
    public TimeSpan[]? RetryDelays { get; set; }

    /// <summary>Gets or sets how many unacknowledged messages the broker sends ahead.</summary>
    /// <value>The default is 200.</value>
    public int Prefetch { get; set; } = 200;

    /// <summary>Gets or sets how many handler runs may go on at once.</summary>
    /// <value>The default is 64.</value>
    public int MaxConcurrentHandlers { get; set; } = 64;

    /// <summary>Gets or sets how many deliveries one key in flight may hold before more are parked.</summary>
    /// <value>The default is 64.</value>
    public int MaxHeldDuplicatesPerKey { get; set; } = 64;

    /// <summary>Gets or sets the largest body handled; larger ones are dead-lettered.</summary>
    /// <value>The default is 1 MiB.</value>
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Gets or sets the number of partitions when several workers share the queue: a consistent-hash exchange sends each
    /// key to one partition, consumed by one worker at a time (see docs/scaling.md).
    /// </summary>
    /// <value>The default is 0: one work queue.</value>
    public int Partitions { get; set; }

    /// <summary>Gets or sets how the workers share the partitions.</summary>
    /// <value>The default is <see cref="PartitionAssignment.Leases"/>: leases in PostgreSQL (see <see cref="PartitionLeases"/>).</value>
    public PartitionAssignment PartitionAssignment { get; set; } = PartitionAssignment.Leases;

    /// <summary>Gets or sets where the partition leases live and their timings.</summary>
    public PartitionLeaseSettings PartitionLeases { get; set; } = new();

    /// <summary>Gets the connection string of the partition leases, when partitions are shared through leases.</summary>
    internal string? PartitionLeaseConnection =>
        Partitions > 0 && PartitionAssignment == PartitionAssignment.Leases ? PartitionLeases.PostgreSql ?? PostgreSql : null;

    /// <summary>Gets or sets the type of the queues declared (classic or quorum).</summary>
    /// <value>The default is classic.</value>
    public string QueueType { get; set; } = "classic";

    /// <summary>Gets or sets what runs once per key.</summary>
    public HandlerSettings Handler { get; set; } = new();
}

/// <summary>Where a message's dedupe key comes from.</summary>
public sealed class KeySettings
{
    /// <summary>Gets or sets the source: Default (the x-dedupe-key header, else the message id), MessageId, Header or JsonProperty.</summary>
    public KeySource Source { get; set; } = KeySource.Default;

    /// <summary>Gets or sets the header name (Header) or the dotted property path (JsonProperty).</summary>
    public string? Name { get; set; }
}

/// <summary>Where a message's dedupe key comes from.</summary>
public enum KeySource
{
    /// <summary>The x-dedupe-key header, else the message id.</summary>
    Default,

    /// <summary>The message id property.</summary>
    MessageId,

    /// <summary>A header, named by <see cref="KeySettings.Name"/>.</summary>
    Header,

    /// <summary>A property of the JSON body, named by a dotted path in <see cref="KeySettings.Name"/>.</summary>
    JsonProperty,
}

/// <summary>What runs once per key.</summary>
public sealed class HandlerSettings
{
    /// <summary>Gets or sets the kind of handler.</summary>
    public HandlerType Type { get; set; } = HandlerType.Http;

    /// <summary>Gets or sets the address messages are POSTed to (Http).</summary>
    public string? Url { get; set; }

    /// <summary>
    /// Gets or sets the longest one HTTP request may take (Http): from 10 ms up to the pipeline's AttemptTimeout, which
    /// bounds every request and retry wait of a run together.
    /// </summary>
    /// <value>The default, unset, is 10 s, or AttemptTimeout when that is shorter.</value>
    public TimeSpan? RequestTimeout { get; set; }

    /// <summary>Gets the message headers copied onto the HTTP request (Http). A value that is not visible ASCII fails the message as permanent.</summary>
    public List<string> ForwardHeaders { get; } = [];

    /// <summary>Gets or sets the names of the headers the handler sets on every request (Http).</summary>
    public HttpHeaderSettings Headers { get; set; } = new();

    /// <summary>Gets or sets the exchange the message is republished to (Publish); empty for the default exchange.</summary>
    public string Exchange { get; set; } = string.Empty;

    /// <summary>Gets or sets the routing key of the republished message (Publish).</summary>
    public string? RoutingKey { get; set; }
}

/// <summary>The built-in handlers.</summary>
public enum HandlerType
{
    /// <summary>POST the message body to a URL; a 2xx response body is the outcome.</summary>
    Http,

    /// <summary>Republish one message per key to an exchange and routing key.</summary>
    Publish,
}
