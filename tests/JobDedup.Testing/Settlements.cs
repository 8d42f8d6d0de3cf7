using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace JobDedup.Testing;

/// <summary>Counts how the consumer of one deduplicator settled its deliveries, from the library's own metric.</summary>
public sealed class Settlements : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _counts = new();

    public Settlements(string deduplicator)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RabbitMqTelemetry.MeterName && instrument.Name == RabbitMqTelemetry.DeliveriesSettled)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? name = null;
            string? how = null;
            foreach (var tag in tags)
            {
                if (tag.Key == JobDedupTelemetry.DeduplicatorTag)
                {
                    name = tag.Value as string;
                }
                else if (tag.Key == RabbitMqTelemetry.SettlementTag)
                {
                    how = tag.Value as string;
                }
            }

            if (name == deduplicator && how is not null)
            {
                _counts.AddOrUpdate(how, value, (_, total) => total + value);
            }
        });
        _listener.Start();
    }

    public long this[string how] => _counts.GetValueOrDefault(how);

    /// <summary>Lists every settlement counted so far, for failure messages.</summary>
    public override string ToString() =>
        _counts.IsEmpty ? "no settlement counted" : string.Join(", ", _counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value}"));

    public void Dispose() => _listener.Dispose();
}
