using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace JobDedup.Telemetry;

/// <summary>The one Meter and ActivitySource of the library, shared by every deduplicator.</summary>
internal static class Instruments
{
    public static readonly ActivitySource ActivitySource = new(JobDedupTelemetry.Name);

    public static readonly Meter Meter = new(JobDedupTelemetry.Name);

    public static readonly Counter<long> JobsEnqueued = Meter.CreateCounter<long>(
        "jobdedup.jobs.enqueued", "{job}", "Jobs that reached a flight, by role (leader, joined, replayed).");

    public static readonly Counter<long> FlightsCompleted = Meter.CreateCounter<long>(
        "jobdedup.flights.completed", "{flight}", "Flights that ended, by status.");

    public static readonly Histogram<double> HandlerDuration = Meter.CreateHistogram<double>(
        "jobdedup.handler.duration", "s", "Time one handler attempt took.");

    public static readonly Counter<long> Retries = Meter.CreateCounter<long>(
        "jobdedup.retries", "{retry}", "Handler attempts retried inside a flight.");

    public static readonly Counter<long> LeaderElections = Meter.CreateCounter<long>(
        "jobdedup.leader.elections", "{election}", "Times a waiting caller took over a flight whose leader left.");

    public static readonly UpDownCounter<long> ActiveFlights = Meter.CreateUpDownCounter<long>(
        "jobdedup.flights.active", "{flight}", "Flights in progress.");

    public static readonly UpDownCounter<long> QueueDepth = Meter.CreateUpDownCounter<long>(
        "jobdedup.queue.depth", "{job}", "Jobs waiting for the dispatcher.");

    public static KeyValuePair<string, object?> Deduplicator(string name) => new(JobDedupTelemetry.DeduplicatorTag, name);

    public static string StatusName(JobStatus status) => status switch
    {
        JobStatus.Succeeded => "succeeded",
        JobStatus.Failed => "failed",
        JobStatus.Canceled => "canceled",
        JobStatus.Unavailable => "unavailable",
        _ => "rejected",
    };
}
