using System.Text;

namespace PaymentWebhooks.Settings;

/// <summary>
/// The sample's settings, bound from the <c>PaymentWebhooks</c> section (appsettings.json, then environment variables
/// such as <c>PaymentWebhooks__SigningSecret</c>). The environment variable JOBDEDUP_RABBITMQ_URI overrides
/// <see cref="RabbitMqUri"/>.
/// </summary>
internal sealed class PaymentWebhooksOptions
{
    /// <summary>The configuration section these settings come from.</summary>
    public const string Section = "PaymentWebhooks";

    /// <summary>The environment variable that overrides <see cref="RabbitMqUri"/>.</summary>
    public const string RabbitMqUriVariable = "JOBDEDUP_RABBITMQ_URI";

    /// <summary>The shortest signing secret accepted: a short HMAC key is easy to guess.</summary>
    public const int MinSecretBytes = 16;

    /// <summary>Gets or sets the port to listen on. The sample always listens on 127.0.0.1 only; 0 picks a free port.</summary>
    /// <value>The default is 5080.</value>
    public int Port { get; set; } = 5080;

    /// <summary>Gets or sets the secret shared with the payment provider, used to check each webhook's signature.</summary>
    /// <value>Required; at least 16 bytes. Never commit a real one: set it with PaymentWebhooks__SigningSecret.</value>
    public string SigningSecret { get; set; } = string.Empty;

    /// <summary>
    /// Gets or sets the name of the provider that signs with <see cref="SigningSecret"/>. Event ids are deduplicated per
    /// sender, so two providers' event ids never meet.
    /// </summary>
    /// <value>The default is <c>payment-provider</c>; 1 to 64 letters, digits, '-' or '_'.</value>
    public string Sender { get; set; } = "payment-provider";

    /// <summary>Gets or sets how far a signature's timestamp may be from the clock, so a captured request cannot be replayed later.</summary>
    /// <value>The default is 5 minutes.</value>
    public TimeSpan SignatureTolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets the largest webhook body read; larger ones get 413 before their signature is checked.</summary>
    /// <value>The default is 64 KiB.</value>
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Gets or sets the broker address.</summary>
    /// <value>The default is <c>amqp://guest:guest@127.0.0.1:5672/</c>.</value>
    public string RabbitMqUri { get; set; } = "amqp://guest:guest@127.0.0.1:5672/";

    /// <summary>Gets or sets the work queue the webhooks are published to and consumed from.</summary>
    /// <value>The default is <c>payment-webhooks</c>.</value>
    public string Queue { get; set; } = "payment-webhooks";

    /// <summary>Gets or sets the queue each delivery's outcome is sent back to, so its receipt can be completed.</summary>
    /// <value>The default is <see langword="null"/>: <c>{Queue}.outcomes</c>.</value>
    public string? OutcomeQueue { get; set; }

    /// <summary>
    /// Gets or sets how long an event is remembered: the endpoint answers a later copy with the first copy's 202, and
    /// the consumer answers a redelivery with the recorded charge, both without a second run.
    /// </summary>
    /// <value>The default is 24 hours.</value>
    public TimeSpan DedupeWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Gets or sets how many events the endpoint's and the consumer's dedupe windows each hold at most; the oldest is forgotten first.</summary>
    /// <value>The default is 100,000.</value>
    public int MaxRememberedEvents { get; set; } = 100_000;

    /// <summary>Gets or sets how many receipts are kept for <c>GET /webhooks/payments/receipts/{id}</c>; the oldest is dropped first.</summary>
    /// <value>The default is 100,000.</value>
    public int MaxReceipts { get; set; } = 100_000;

    /// <summary>Gets the outcome queue's name.</summary>
    public string OutcomeQueueName => OutcomeQueue ?? $"{Queue}.outcomes";

    /// <summary>Lists what is wrong with these settings, each message naming its setting.</summary>
    /// <returns>The problems; empty when the settings are valid.</returns>
    public List<string> Validate()
    {
        var problems = new List<string>();
        if (Port is < 0 or > 65535)
        {
            problems.Add($"{Section}:{nameof(Port)} must be between 0 and 65535, not {Port}.");
        }

        if (Encoding.UTF8.GetByteCount(SigningSecret ?? string.Empty) < MinSecretBytes)
        {
            problems.Add(
                $"{Section}:{nameof(SigningSecret)} must be set to the secret shared with the payment provider " +
                $"(at least {MinSecretBytes} bytes), for example with the environment variable {Section}__{nameof(SigningSecret)}.");
        }

        if (Sender is not { Length: > 0 and <= 64 } sender || !sender.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            problems.Add($"{Section}:{nameof(Sender)} must be 1 to 64 letters, digits, '-' or '_', not '{Sender}'.");
        }

        if (SignatureTolerance < TimeSpan.FromSeconds(1) || SignatureTolerance > TimeSpan.FromHours(1))
        {
            problems.Add($"{Section}:{nameof(SignatureTolerance)} must be between 1 second and 1 hour, not {SignatureTolerance}.");
        }

        if (MaxBodyBytes is < 1024 or > 1024 * 1024)
        {
            problems.Add($"{Section}:{nameof(MaxBodyBytes)} must be between 1024 and 1048576, not {MaxBodyBytes}.");
        }

        if (!Uri.TryCreate(RabbitMqUri, UriKind.Absolute, out var broker) || broker.Scheme is not ("amqp" or "amqps"))
        {
            problems.Add($"{Section}:{nameof(RabbitMqUri)} (or {RabbitMqUriVariable}) must be an amqp:// or amqps:// address.");
        }

        if (string.IsNullOrWhiteSpace(Queue))
        {
            problems.Add($"{Section}:{nameof(Queue)} must name a queue.");
        }

        if (OutcomeQueue is not null && (string.IsNullOrWhiteSpace(OutcomeQueue) || OutcomeQueue == Queue))
        {
            problems.Add($"{Section}:{nameof(OutcomeQueue)} must name a queue other than {nameof(Queue)}, or be left out.");
        }

        if (DedupeWindow <= TimeSpan.Zero)
        {
            problems.Add($"{Section}:{nameof(DedupeWindow)} must be more than zero, not {DedupeWindow}.");
        }

        if (MaxRememberedEvents < 1)
        {
            problems.Add($"{Section}:{nameof(MaxRememberedEvents)} must be at least 1, not {MaxRememberedEvents}.");
        }

        if (MaxReceipts < 1)
        {
            problems.Add($"{Section}:{nameof(MaxReceipts)} must be at least 1, not {MaxReceipts}.");
        }

        return problems;
    }
}
