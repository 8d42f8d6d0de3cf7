namespace JobDedup.RabbitMq;

/// <summary>The message headers JobDedup reads and writes.</summary>
public static class JobDedupHeaders
{
    /// <summary>The dedupe key, set by <see cref="IJobPublisher"/> and read by the default key rule.</summary>
    public const string Key = "x-dedupe-key";

    /// <summary>Which delivery attempt a message is on (1 for the first); raised each time it goes through the retry queue.</summary>
    public const string Attempt = "x-jobdedup-attempt";

    /// <summary>When the consumer first saw the message, in Unix milliseconds.</summary>
    public const string FirstSeen = "x-jobdedup-first-seen";

    /// <summary>How many times the message was parked because its key already held enough deliveries.</summary>
    public const string Parked = "x-jobdedup-parked";

    /// <summary>On a dead letter: why it was dead-lettered (see <see cref="DeadLetterReasons"/>).</summary>
    public const string Reason = "x-jobdedup-reason";

    /// <summary>On a dead letter or an error reply: the .NET type of the exception.</summary>
    public const string ExceptionType = "x-jobdedup-exception-type";

    /// <summary>On a dead letter or an error reply: the exception's message.</summary>
    public const string ExceptionMessage = "x-jobdedup-exception-message";

    /// <summary>On a dead letter: the queue the message came from.</summary>
    public const string SourceQueue = "x-jobdedup-source-queue";

    /// <summary>On a reply: the outcome's status (Succeeded, Failed, or Conflict for a payload mismatch).</summary>
    public const string Status = "x-jobdedup-status";

    /// <summary>On a reply: whether this delivery led the flight, joined it, or got a replayed outcome.</summary>
    public const string Role = "x-jobdedup-role";
}

/// <summary>The values of the <see cref="JobDedupHeaders.Reason"/> header on a dead letter.</summary>
public static class DeadLetterReasons
{
    /// <summary>The key rule found no key in the message.</summary>
    public const string MissingKey = "missing-key";

    /// <summary>
    /// The key is there but unusable: refused by the deduplicator's <see cref="KeyPolicy"/> (longer than its MaxKeyBytes,
    /// or holding a control character, a line or paragraph separator or a lone surrogate), or a key header of a type
    /// that is neither text nor a number.
    /// </summary>
    public const string InvalidKey = "invalid-key";

    /// <summary>The body could not be read as a job (or as the JSON the key rule needs, invalid UTF-8 included).</summary>
    public const string UnreadableBody = "unreadable-body";

    /// <summary>The body was larger than the consumer's MaxMessageBytes.</summary>
    public const string Oversize = "oversize";

    /// <summary>The handler failed on every delivery attempt (MaxDeliveryAttempts).</summary>
    public const string HandlerFailed = "handler-failed";

    /// <summary>
    /// The handler failed with an error the deduplicator's IsPermanentFailure calls permanent, so it was dead-lettered on
    /// its first delivery without any retry.
    /// </summary>
    public const string PermanentFailure = "permanent-failure";

    /// <summary>
    /// The key was already in flight, or kept in the dedupe window, with a different payload fingerprint (the
    /// deduplicator's Fingerprint): the message is a different job under a key already used, so it was dead-lettered at
    /// once, without running the handler, and never requeued.
    /// </summary>
    public const string PayloadMismatch = "payload-mismatch";
}
