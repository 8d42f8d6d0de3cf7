using System.Diagnostics.Metrics;

namespace JobDedup.Telemetry;

/// <summary>
/// The instruments as one deduplicator records them, tagged with its name. A listener that throws is contained
/// here: telemetry never decides whether a caller gets its outcome. Nothing is allocated per measurement.
/// </summary>
internal sealed class DeduplicatorMetrics(string name)
{
    private readonly KeyValuePair<string, object?> _name = Instruments.Deduplicator(name);
    private readonly KeyValuePair<string, object?> _leader = new("jobdedup.role", "leader");
    private readonly KeyValuePair<string, object?> _joined = new("jobdedup.role", "joined");
    private readonly KeyValuePair<string, object?> _replayed = new("jobdedup.role", "replayed");

    public void Enqueued(JobRole role) => Add(Instruments.JobsEnqueued, 1, role switch
    {
        JobRole.Leader => _leader,
        JobRole.Joined => _joined,
        _ => _replayed,
    });

    public void Queued(int delta) => Add(Instruments.QueueDepth, delta);

    public void Active(int delta) => Add(Instruments.ActiveFlights, delta);

    public void Completed(JobStatus status) => Add(Instruments.FlightsCompleted, 1, new("jobdedup.status", Instruments.StatusName(status)));

    public void Retried() => Add(Instruments.Retries, 1);

    public void LeaderElected() => Add(Instruments.LeaderElections, 1);

    public void HandlerDuration(TimeSpan elapsed)
    {
        if (!Instruments.HandlerDuration.Enabled)
        {
            return;
        }

        try
        {
            Instruments.HandlerDuration.Record(elapsed.TotalSeconds, _name);
        }
        catch (Exception)
        {
            // A throwing metrics listener is its own bug; the engine goes on.
        }
    }

    private void Add(Counter<long> counter, long value, KeyValuePair<string, object?> tag)
    {
        if (!counter.Enabled)
        {
            return;
        }

        try
        {
            counter.Add(value, _name, tag);
        }
        catch (Exception)
        {
            // A throwing metrics listener is its own bug; the engine goes on.
        }
    }

    private void Add(Counter<long> counter, long value)
    {
        if (!counter.Enabled)
        {
            return;
        }

        try
        {
            counter.Add(value, _name);
        }
        catch (Exception)
        {
            // A throwing metrics listener is its own bug; the engine goes on.
        }
    }

    private void Add(UpDownCounter<long> counter, long value)
    {
        if (!counter.Enabled)
        {
            return;
        }

        try
        {
            counter.Add(value, _name);
        }
        catch (Exception)
        {
            // A throwing metrics listener is its own bug; the engine goes on.
        }
    }
}
