using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace JobDedup.OpenTelemetry.Tests.Support;

/// <summary>
/// OpenTelemetry providers subscribed with <c>AddJobDedupInstrumentation</c> and the in-memory exporter. Tests run in
/// parallel and providers listen process-wide, so each test picks its own spans (by trace id) and measurements (by
/// the deduplicator tag).
/// </summary>
public sealed class Recorded : IDisposable
{
    /// <summary>The source the tests start their callers' activities from.</summary>
    public static readonly ActivitySource Callers = new("JobDedup.OpenTelemetry.Tests.Callers");

    private readonly List<Activity> _spans = [];
    private readonly List<MetricSnapshot> _metrics = [];
    private readonly TracerProvider _tracer;
    private readonly MeterProvider _meter;

    public Recorded()
    {
        _tracer = Sdk.CreateTracerProviderBuilder()
            .AddJobDedupInstrumentation()
            .AddSource(Callers.Name)
            .AddInMemoryExporter(_spans)
            .Build();
        _meter = Sdk.CreateMeterProviderBuilder()
            .AddJobDedupInstrumentation()
            .AddInMemoryExporter(_metrics)
            .Build();
    }

    /// <summary>Returns the spans exported so far that belong to one of <paramref name="traces"/>.</summary>
    public List<Activity> Spans(params ActivityTraceId[] traces)
    {
        lock (_spans)
        {
            return [.. _spans.Where(s => traces.Contains(s.TraceId))];
        }
    }

    /// <summary>Returns every span exported so far.</summary>
    public List<Activity> AllSpans()
    {
        lock (_spans)
        {
            return [.. _spans];
        }
    }

    /// <summary>Collects the metrics now and returns the points of <paramref name="instrument"/> tagged with <paramref name="deduplicator"/>.</summary>
    public List<(MetricSnapshot Metric, MetricPoint Point, Dictionary<string, object?> Tags)> Points(string instrument, string deduplicator)
    {
        _metrics.Clear();
        Assert.True(_meter.ForceFlush(10_000), "the meter provider collects");
        var points = new List<(MetricSnapshot, MetricPoint, Dictionary<string, object?>)>();
        foreach (var metric in _metrics.Where(m => m.Name == instrument))
        {
            foreach (var point in metric.MetricPoints)
            {
                var tags = new Dictionary<string, object?>();
                foreach (var tag in point.Tags)
                {
                    tags[tag.Key] = tag.Value;
                }

                if (Equals(tags.GetValueOrDefault(JobDedupTelemetry.DeduplicatorTag), deduplicator))
                {
                    points.Add((metric, point, tags));
                }
            }
        }

        return points;
    }

    /// <summary>Sums a counter's points with one tag value.</summary>
    public long Sum(string instrument, string deduplicator, string tag, string value) =>
        Points(instrument, deduplicator).Where(p => Equals(p.Tags.GetValueOrDefault(tag), value)).Sum(p => p.Point.GetSumLong());

    public void Dispose()
    {
        _tracer.Dispose();
        _meter.Dispose();
    }
}
