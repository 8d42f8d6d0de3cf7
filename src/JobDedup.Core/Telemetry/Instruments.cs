using System.Diagnostics.Metrics;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace JobDedup.Telemetry;

/// <summary>
/// The engine's instruments on one <see cref="Meter"/> named <see cref="JobDedupTelemetry.Name"/>: the meter an
/// <see cref="IMeterFactory"/> gives (when the deduplicator comes from dependency injection), or one shared static
/// meter otherwise. Instruments are created once per meter, however many deduplicators record on it.
/// </summary>
internal sealed class Instruments
{
    private static readonly ConditionalWeakTable<Meter, Instruments> ByMeter = [];

    private Instruments(Meter meter)
    {
        Meter = meter;
        JobsEnqueued = meter.CreateCounter<long>(
            "jobdedup.jobs.enqueued", "{job}", "Jobs that reached a flight, by role (leader, joined, replayed), and jobs refused for a different payload (conflict).");
        FlightsCompleted = meter.CreateCounter<long>(
            "jobdedup.flights.completed", "{flight}", "Flights that ended, by status.");
        HandlerDuration = meter.CreateHistogram(
            "jobdedup.handler.duration",
            "s",
            "Time one handler attempt took.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        Retries = meter.CreateCounter<long>(
            "jobdedup.retries", "{retry}", "Handler attempts retried inside a flight.");
        LeaderElections = meter.CreateCounter<long>(
            "jobdedup.leader.elections", "{election}", "Times a waiting caller took over a flight whose leader left.");
        ActiveFlights = meter.CreateUpDownCounter<long>(
            "jobdedup.flights.active", "{flight}", "Flights in progress.");
        QueueDepth = meter.CreateUpDownCounter<long>(
            "jobdedup.queue.depth", "{job}", "Jobs waiting for the dispatcher.");
    }

    /// <summary>Gets the library's version as the meters and activity sources carry it (the informational version).</summary>
    public static string Version { get; } =
        typeof(Instruments).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>
    /// Gets the bucket boundaries, in seconds, advised for every duration histogram: from 5 ms to a minute. Without
    /// advice an exporter uses boundaries meant for milliseconds, and every handler run lands in the first bucket.
    /// </summary>
    public static IReadOnlyList<double> DurationBuckets { get; } =
        [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60];

    /// <summary>Gets the instruments on the static meter, for deduplicators made without a meter factory.</summary>
    public static Instruments Shared { get; } = new(new Meter(JobDedupTelemetry.Name, Version));

    public Meter Meter { get; }

    public Counter<long> JobsEnqueued { get; }

    public Counter<long> FlightsCompleted { get; }

    public Histogram<double> HandlerDuration { get; }

    public Counter<long> Retries { get; }

    public Counter<long> LeaderElections { get; }

    public UpDownCounter<long> ActiveFlights { get; }

    public UpDownCounter<long> QueueDepth { get; }

    /// <summary>Returns the instruments on <paramref name="factory"/>'s JobDedup meter, or the shared ones when there is no factory.</summary>
    public static Instruments For(IMeterFactory? factory)
    {
        if (factory is null)
        {
            return Shared;
        }

        var meter = factory.Create(new MeterOptions(JobDedupTelemetry.Name) { Version = Version });
        return ByMeter.GetValue(meter, static m => new Instruments(m));
    }

    public static KeyValuePair<string, object?> Deduplicator(string name) => new(JobDedupTelemetry.DeduplicatorTag, name);

    public static string StatusName(JobStatus status) => status switch
    {
        JobStatus.Succeeded => "succeeded",
        JobStatus.Failed => "failed",
        JobStatus.Canceled => "canceled",
        JobStatus.Unavailable => "unavailable",
        JobStatus.Conflict => "conflict",
        _ => "rejected",
    };
}
