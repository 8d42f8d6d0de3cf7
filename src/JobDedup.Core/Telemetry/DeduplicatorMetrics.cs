namespace JobDedup.Telemetry;

/// <summary>
/// The instruments as one deduplicator (or shared call) records them, tagged with its name. A listener that throws is
/// contained here: telemetry never decides whether a caller gets its outcome. Nothing is allocated per measurement.
/// </summary>
internal sealed class DeduplicatorMetrics(Instruments instruments, string name)
{
    private readonly KeyValuePair<string, object?> _name = Instruments.Deduplicator(name);
    private readonly KeyValuePair<string, object?> _leader = new(JobDedupTelemetry.RoleTag, "leader");
    private readonly KeyValuePair<string, object?> _joined = new(JobDedupTelemetry.RoleTag, "joined");
    private readonly KeyValuePair<string, object?> _replayed = new(JobDedupTelemetry.RoleTag, "replayed");
    private readonly KeyValuePair<string, object?> _conflict = new(JobDedupTelemetry.RoleTag, "conflict");

    /// <summary>Gets a value indicating whether anyone listens to the handler duration (only then is the clock read).</summary>
    public bool IsDurationEnabled => instruments.HandlerDuration.Enabled;

    public void Enqueued(JobRole role) => Add(instruments.JobsEnqueued, 1, role switch
    {
        JobRole.Leader => _leader,
        JobRole.Joined => _joined,
        _ => _replayed,
    });

    /// <summary>Counts callers refused because their payload fingerprint differs from what holds their key.</summary>
    public void Conflicted(int callers = 1) => Add(instruments.JobsEnqueued, callers, _conflict);

    public void Queued(int delta) => Add(instruments.QueueDepth, delta);

    public void Active(int delta) => Add(instruments.ActiveFlights, delta);

    public void Completed(JobStatus status) => Add(instruments.FlightsCompleted, 1, new(JobDedupTelemetry.StatusTag, Instruments.StatusName(status)));

    public void Retried() => Add(instruments.Retries, 1);

    public void LeaderElected() => Add(instruments.LeaderElections, 1);

    public void HandlerDuration(TimeSpan elapsed)
    {
        var histogram = instruments.HandlerDuration;
        if (!histogram.Enabled)
        {
            return;
        }

        try
        {
            histogram.Record(elapsed.TotalSeconds, _name);
        }
        catch (Exception)
        {
            // A throwing metrics listener is its own bug; the engine goes on.
        }
    }

    private void Add(System.Diagnostics.Metrics.Counter<long> counter, long value, KeyValuePair<string, object?> tag)
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

    private void Add(System.Diagnostics.Metrics.Counter<long> counter, long value)
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

    private void Add(System.Diagnostics.Metrics.UpDownCounter<long> counter, long value)
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
