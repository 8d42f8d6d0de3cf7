using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using JobDedup.RabbitMq;
using JobDedup.Worker.Telemetry;

namespace JobDedup.Worker.Http.Stats;

/// <summary>
/// Listens to the library's meter for the two numbers the deduplicators' stats do not hold: how long handler attempts
/// take, and dead letters by reason. Only those two instruments are enabled, and each measurement costs an
/// interlocked add (a dictionary update for a dead letter, which is rare).
/// </summary>
internal sealed class EngineMeterTap : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, LatencyHistogram> _latency = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Pipeline, string Reason), long> _deadLetters = new();

    public EngineMeterTap(IEnumerable<string> pipelines)
    {
        foreach (var pipeline in pipelines)
        {
            _latency[pipeline] = new LatencyHistogram();
        }

        _listener.InstrumentPublished = static (instrument, listener) =>
        {
            if (instrument.Meter.Name == JobDedupTelemetry.Name && instrument.Name is WorkerTelemetry.HandlerDuration or RabbitMqTelemetry.DeliveriesSettled)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>(OnDuration);
        _listener.SetMeasurementEventCallback<long>(OnSettled);
        _listener.Start();
    }

    /// <summary>Takes the pipeline's handler durations of the last second.</summary>
    public LatencySummary TakeLatency(string pipeline) =>
        _latency.TryGetValue(pipeline, out var histogram) ? histogram.TakeSecond() : LatencySummary.None;

    /// <summary>Returns the pipeline's dead letters since start, by reason.</summary>
    public SortedDictionary<string, long> DeadLetters(string pipeline)
    {
        var byReason = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var ((name, reason), count) in _deadLetters)
        {
            if (name == pipeline)
            {
                byReason[reason] = count;
            }
        }

        return byReason;
    }

    public void Dispose() => _listener.Dispose();

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value as string;
            }
        }

        return null;
    }

    private void OnDuration(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (Tag(tags, JobDedupTelemetry.DeduplicatorTag) is { } pipeline && _latency.TryGetValue(pipeline, out var histogram))
        {
            histogram.Record(seconds * 1000);
        }
    }

    private void OnSettled(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (Tag(tags, RabbitMqTelemetry.ReasonTag) is { } reason && Tag(tags, JobDedupTelemetry.DeduplicatorTag) is { } pipeline)
        {
            _deadLetters.AddOrUpdate((pipeline, reason), value, (_, count) => count + value);
        }
    }
}
