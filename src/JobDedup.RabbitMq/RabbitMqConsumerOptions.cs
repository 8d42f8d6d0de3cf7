using System.Text.Json;
using JobDedup.RabbitMq.Topology;

namespace JobDedup.RabbitMq;

/// <summary>Settings of a consumer that feeds one deduplicator from one queue. Checked when the host starts.</summary>
/// <typeparam name="TJob">The job type the body is read as.</typeparam>
/// <typeparam name="TResult">The handler's result type, sent back to reply-to callers.</typeparam>
public sealed class RabbitMqConsumerOptions<TJob, TResult> : RabbitMqConnectionOptions
{
    /// <summary>Gets or sets the work queue to consume.</summary>
    /// <value>Required.</value>
    public string Queue { get; set; } = string.Empty;

    /// <summary>
    /// Gets or sets how many unacknowledged deliveries the broker sends ahead. Duplicates within this window meet in
    /// one flight.
    /// </summary>
    /// <value>The default is 200.</value>
    public int Prefetch { get; set; } = 200;

    /// <summary>Gets or sets where the dedupe key of a delivery comes from.</summary>
    /// <value>The default is <see cref="RabbitMqKeyRule.Default"/>: the <c>x-dedupe-key</c> header, else the message id.</value>
    public RabbitMqKeyRule KeyRule { get; set; } = RabbitMqKeyRule.Default;

    /// <summary>
    /// Gets or sets how a delivery becomes a job. Throwing, or returning null, dead-letters the delivery as unreadable.
    /// </summary>
    /// <value>
    /// The default is <see langword="null"/>: the message itself when the job type is <see cref="RabbitMqMessage"/>,
    /// the body's bytes for <c>byte[]</c>, its UTF-8 text for <see cref="string"/>, and System.Text.Json otherwise.
    /// </value>
    public Func<RabbitMqMessage, TJob>? Deserializer { get; set; }

    /// <summary>Gets or sets how a result becomes a reply body.</summary>
    /// <value>The default is <see langword="null"/>: bytes as they are, text as UTF-8, anything else as JSON.</value>
    public Func<TResult, byte[]>? ReplySerializer { get; set; }

    /// <summary>Gets or sets the JSON settings of the default deserializer and reply serializer.</summary>
    /// <value>The default is <see cref="JsonSerializerDefaults.Web"/> settings.</value>
    public JsonSerializerOptions JsonOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>Gets or sets the largest body handled; larger ones are dead-lettered at once.</summary>
    /// <value>The default is 1 MiB.</value>
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Gets or sets how many times a delivery is handled before it is dead-lettered. Each failed delivery (after the
    /// deduplicator's own retries) goes through the retry queue and comes back. A permanent failure (the deduplicator's
    /// <see cref="JobDedupOptions{TJob}.IsPermanentFailure"/>) is dead-lettered on its first delivery.
    /// </summary>
    /// <value>The default is 3.</value>
    public int MaxDeliveryAttempts { get; set; } = 3;

    /// <summary>
    /// Gets or sets the most handler runs one message may cause: <see cref="MaxDeliveryAttempts"/> times the
    /// deduplicator's attempts per delivery (<see cref="JobDedupOptions{TJob}.MaxRetryAttempts"/> + 1) must not exceed
    /// it, or the host does not start. It bounds what a poison message costs. Not checked when the deduplicator runs
    /// its handler in a custom <see cref="JobDedupOptions{TJob}.ResiliencePipeline"/>.
    /// </summary>
    /// <value>The default is 6: 2 attempts per delivery (the deduplicator's default) times 3 deliveries.</value>
    public int MaxHandlerRunsPerMessage { get; set; } = 6;

    /// <summary>
    /// Gets or sets a value indicating whether the host fails to start when the broker cannot be reached at start. When
    /// false, the consumer connects in the background with backoff (1 s doubling to 30 s), reports Unhealthy until it
    /// consumes, and the rest of the host runs meanwhile.
    /// </summary>
    /// <value>The default is <see langword="false"/>: connect in the background. The worker turns it on.</value>
    public bool FailFastOnStart { get; set; }

    /// <summary>
    /// Gets or sets the waits before a failed delivery comes back: the first for attempt 2, the next for attempt 3,
    /// the last for every later one. Each delay has its own retry queue, so a long wait never holds up a short one.
    /// </summary>
    /// <value>The default is 1 s, 10 s and 60 s.</value>
    public TimeSpan[] RetryDelays { get; set; } = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60)];

    /// <summary>
    /// Gets or sets which failures are not worth another delivery. Obsolete: set the deduplicator's
    /// <see cref="JobDedupOptions{TJob}.IsPermanentFailure"/> instead, which the in-process retries use too. A value set
    /// here is moved there when the deduplicator's own is not set; when both are set the host does not start.
    /// </summary>
    /// <value>The default is <see langword="null"/>.</value>
    [Obsolete("Set JobDedupOptions<TJob>.IsPermanentFailure (AddJobDedup(name, o => o.IsPermanentFailure = ...)): one classification serves the in-process retries and the consumer.")]
    public Func<Exception, bool>? IsPermanentFailure { get; set; }

    /// <summary>
    /// Gets or sets how many deliveries one key in flight may hold. More duplicates of a key that is still running are
    /// parked on the first retry queue (and come back after its delay), so one slow key cannot fill the prefetch window.
    /// </summary>
    /// <value>The default is 64. It must be less than <see cref="Prefetch"/>.</value>
    public int MaxHeldDuplicatesPerKey { get; set; } = 64;

    /// <summary>Gets or sets the prefix of the retry queues, which are named <c>{prefix}.1</c>, <c>{prefix}.2</c>, ...</summary>
    /// <value>The default is <see langword="null"/>: <c>{Queue}.retry</c>.</value>
    public string? RetryQueuePrefix { get; set; }

    /// <summary>Gets or sets the exchange dead letters are published to.</summary>
    /// <value>The default is <see langword="null"/>: <c>{Queue}.dead-letter</c>.</value>
    public string? DeadLetterExchange { get; set; }

    /// <summary>Gets or sets the queue dead letters are kept in.</summary>
    /// <value>The default is <see langword="null"/>: <c>{Queue}.dead</c>.</value>
    public string? DeadLetterQueue { get; set; }

    /// <summary>Gets or sets the type of the queues declared: <c>classic</c> or <c>quorum</c>.</summary>
    /// <value>The default is <c>classic</c>.</value>
    public string QueueType { get; set; } = "classic";

    /// <summary>
    /// Gets or sets the number of partitions for running several instances: when above 0, messages are published to a
    /// consistent-hash exchange <c>{Queue}.partitions</c> that hashes the <c>x-dedupe-key</c> header onto this many
    /// partition queues <c>{Queue}.partition.{i}</c>, each with a single active consumer. Every key then reaches one
    /// live instance at a time, so in-flight coalescing holds across instances. Needs the broker plugin
    /// rabbitmq_consistent_hash_exchange, and publishers that set the key header (<see cref="IJobPublisher"/> does,
    /// with <see cref="RabbitMqPublisherOptions.PartitionedQueue"/> set).
    /// </summary>
    /// <value>The default is 0: one work queue.</value>
    public int Partitions { get; set; }

    /// <summary>Gets or sets a value indicating whether the consumer declares its queues and exchange at start.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool DeclareTopology { get; set; } = true;

    internal string RetryPrefix => RetryQueuePrefix ?? $"{Queue}.retry";

    internal string DeadLetterExchangeName => DeadLetterExchange ?? $"{Queue}.dead-letter";

    internal string DeadLetterQueueName => DeadLetterQueue ?? $"{Queue}.dead";

    internal string RetryQueueName(int level) => $"{RetryPrefix}.{level + 1}";

    internal string PartitionExchangeName => RabbitMqNames.PartitionExchange(Queue);

    internal string PartitionQueueName(int partition) => RabbitMqNames.PartitionQueue(Queue, partition);

    /// <summary>The queues this consumer takes deliveries from: the work queue, or every partition queue.</summary>
    internal IReadOnlyList<string> ConsumedQueues =>
        Partitions > 0 ? [.. Enumerable.Range(0, Partitions).Select(PartitionQueueName)] : [Queue];


    /// <summary>The retry level (index into <see cref="RetryDelays"/>) for a delivery about to make attempt <paramref name="nextAttempt"/>.</summary>
    internal int RetryLevel(int nextAttempt) => Math.Clamp(nextAttempt - 2, 0, RetryDelays.Length - 1);

    /// <summary>Lists what is wrong with these settings, each message naming its option.</summary>
    /// <returns>The problems; empty when the settings are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        ValidateConnection(errors);
        QueueName(errors, nameof(Queue), Queue, required: true);
        QueueName(errors, nameof(RetryQueuePrefix), RetryQueuePrefix, required: false);
        QueueName(errors, nameof(DeadLetterExchange), DeadLetterExchange, required: false);
        QueueName(errors, nameof(DeadLetterQueue), DeadLetterQueue, required: false);
        if (Prefetch is < 1 or > ushort.MaxValue)
        {
            errors.Add($"{nameof(Prefetch)} must be between 1 and {ushort.MaxValue}, not {Prefetch}.");
        }

        if (KeyRule is null)
        {
            errors.Add($"{nameof(KeyRule)} must be set.");
        }

        if (JsonOptions is null)
        {
            errors.Add($"{nameof(JsonOptions)} must be set.");
        }

        if (MaxMessageBytes < 1 || MaxMessageBytes > BrokerMaxMessageBytes)
        {
            errors.Add($"{nameof(MaxMessageBytes)} must be between 1 and {BrokerMaxMessageBytes}, not {MaxMessageBytes}.");
        }

        if (MaxDeliveryAttempts is < 1 or > 1000)
        {
            errors.Add($"{nameof(MaxDeliveryAttempts)} must be between 1 and 1000, not {MaxDeliveryAttempts}.");
        }

        if (MaxHandlerRunsPerMessage is < 1 or > 1000)
        {
            errors.Add($"{nameof(MaxHandlerRunsPerMessage)} must be between 1 and 1000, not {MaxHandlerRunsPerMessage}.");
        }

        if (RetryDelays is null || RetryDelays.Length == 0)
        {
            errors.Add($"{nameof(RetryDelays)} must hold at least one delay (it is also where overflow is parked).");
        }
        else if (RetryDelays.Any(d => d < TimeSpan.FromMilliseconds(1) || d > TimeSpan.FromDays(1)))
        {
            errors.Add($"{nameof(RetryDelays)} must each be between 1 ms and 1 day, not [{string.Join(", ", RetryDelays)}].");
        }

        if (MaxHeldDuplicatesPerKey < 1)
        {
            errors.Add($"{nameof(MaxHeldDuplicatesPerKey)} must be greater than 0, not {MaxHeldDuplicatesPerKey}.");
        }
        else if (MaxHeldDuplicatesPerKey >= Prefetch)
        {
            errors.Add(
                $"{nameof(MaxHeldDuplicatesPerKey)} ({MaxHeldDuplicatesPerKey}) must be less than {nameof(Prefetch)} ({Prefetch}), " +
                "or one slow key could hold every delivery the broker sends ahead and starve the others.");
        }

        if (Partitions is < 0 or > 1024)
        {
            errors.Add($"{nameof(Partitions)} must be between 0 (off) and 1024, not {Partitions}.");
        }

        if (QueueType is not ("classic" or "quorum"))
        {
            errors.Add($"{nameof(QueueType)} must be 'classic' or 'quorum', not '{QueueType}'.");
        }

        return errors;
    }

    private static void QueueName(List<string> errors, string option, string? value, bool required)
    {
        if (value is null && !required)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{option} must be set to a queue or exchange name.");
        }
        else if (System.Text.Encoding.UTF8.GetByteCount(value) > 200)
        {
            errors.Add($"{option} must be at most 200 bytes long (the broker allows 255, and JobDedup adds suffixes).");
        }
        else if (value.StartsWith("amq.", StringComparison.Ordinal))
        {
            errors.Add($"{option} must not start with 'amq.', which the broker reserves.");
        }
    }
}
