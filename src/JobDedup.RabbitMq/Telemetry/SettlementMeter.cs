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

    private readonly KeyValuePair<string, object?>[][] _tags;

    public SettlementMeter(string consumer)
    {
        var names = Enum.GetValues<SettledAs>();
        _tags = new KeyValuePair<string, object?>[names.Length][];
        foreach (var how in names)
        {
            _tags[(int)how] = [new(JobDedupTelemetry.DeduplicatorTag, consumer), new(RabbitMqTelemetry.SettlementTag, Name(how))];
        }
    }

    public void Add(SettledAs how) => Settled.Add(1, _tags[(int)how]);

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
