using System.Diagnostics.Metrics;

namespace JobDedup.RabbitMq.Telemetry;

/// <summary>Counts one consumer's settlements; the tags are built once per consumer, so counting allocates nothing.</summary>
internal sealed class SettlementMeter
{
    private static readonly Meter Meter = new(RabbitMqTelemetry.MeterName, MessagingSpans.Source.Version);

    private static readonly Counter<long> Settled = Meter.CreateCounter<long>(
        RabbitMqTelemetry.DeliveriesSettled,
        "{delivery}",
        "Deliveries settled, by how: ack, retry, dead-letter, park, requeue, stale (taken back by the broker), deferred (a settlement to try again).");

    private static readonly string[] KnownReasons =
    [
        DeadLetterReasons.MissingKey,
        DeadLetterReasons.InvalidKey,
        DeadLetterReasons.UnreadableBody,
        DeadLetterReasons.Oversize,
        DeadLetterReasons.HandlerFailed,
        DeadLetterReasons.PermanentFailure,
        DeadLetterReasons.PayloadMismatch,
    ];

    private readonly KeyValuePair<string, object?>[][] _tags;
    private readonly KeyValuePair<string, object?>[][] _deadLetterTags;
    private readonly string _consumer;

    public SettlementMeter(string consumer)
    {
        var names = Enum.GetValues<SettledAs>();
        _consumer = consumer;
        _tags = new KeyValuePair<string, object?>[names.Length][];
        foreach (var how in names)
        {
            _tags[(int)how] = [new(JobDedupTelemetry.DeduplicatorTag, consumer), new(RabbitMqTelemetry.SettlementTag, Name(how))];
        }

        _deadLetterTags = new KeyValuePair<string, object?>[KnownReasons.Length][];
        for (var i = 0; i < KnownReasons.Length; i++)
        {
            _deadLetterTags[i] = DeadLetterTags(KnownReasons[i]);
        }
    }

    public void Add(SettledAs how) => Settled.Add(1, _tags[(int)how]);

    /// <summary>Counts a dead letter, tagged with its reason (one of <see cref="DeadLetterReasons"/>).</summary>
    public void DeadLettered(string reason)
    {
        var known = Array.IndexOf(KnownReasons, reason);
        Settled.Add(1, known >= 0 ? _deadLetterTags[known] : DeadLetterTags(reason));
    }

    private KeyValuePair<string, object?>[] DeadLetterTags(string reason) =>
        [new(JobDedupTelemetry.DeduplicatorTag, _consumer), new(RabbitMqTelemetry.SettlementTag, Name(SettledAs.DeadLetter)), new(RabbitMqTelemetry.ReasonTag, reason)];

    private static string Name(SettledAs how) => how switch
    {
        SettledAs.Ack => "ack",
        SettledAs.Retry => "retry",
        SettledAs.Park => "park",
        SettledAs.DeadLetter => "dead-letter",
        SettledAs.Requeue => "requeue",
        SettledAs.Stale => "stale",
        _ => "deferred",
    };
}
