using System.Diagnostics.Metrics;

namespace JobDedup.Testing;

/// <summary>Records the long-valued measurements of the JobDedup meter for one deduplicator (by its name tag).</summary>
public sealed class MetricsRecorder : IDisposable
{
    private readonly List<(string Instrument, long Value, Dictionary<string, object?> Tags)> _measurements = [];
    private readonly MeterListener _listener = new();

    /// <summary>Starts recording what the deduplicator named <paramref name="deduplicator"/> measures.</summary>
    /// <param name="deduplicator">The value of its <see cref="JobDedupTelemetry.DeduplicatorTag"/>.</param>
    public MetricsRecorder(string deduplicator)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == JobDedupTelemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var map = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                map[tag.Key] = tag.Value;
            }

            if (Equals(map.GetValueOrDefault(JobDedupTelemetry.DeduplicatorTag), deduplicator))
            {
                lock (_measurements)
                {
                    _measurements.Add((instrument.Name, value, map));
                }
            }
        });
        _listener.Start();
    }

    /// <summary>Gets what was recorded so far.</summary>
    public IReadOnlyList<(string Instrument, long Value, Dictionary<string, object?> Tags)> Measurements
    {
        get
        {
            lock (_measurements)
            {
                return [.. _measurements];
            }
        }
    }

    /// <summary>Sums an instrument's measurements that carry a tag with a value.</summary>
    /// <param name="instrument">The instrument's name.</param>
    /// <param name="tag">The tag.</param>
    /// <param name="value">The tag's value.</param>
    /// <returns>The sum.</returns>
    public long Sum(string instrument, string tag, string value) =>
        Measurements.Where(m => m.Instrument == instrument && Equals(m.Tags.GetValueOrDefault(tag), value)).Sum(m => m.Value);

    public void Dispose() => _listener.Dispose();
}
