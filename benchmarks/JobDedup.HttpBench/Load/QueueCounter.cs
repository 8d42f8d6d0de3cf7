using System.Diagnostics.Metrics;

namespace JobDedup.HttpBench.Load;

/// <summary>
/// Counts the jobs JobDedup's engines queue for their dispatchers, from the queue depth they report (+1 for each job
/// queued, -1 as it is read). Listening turns that measurement on, which costs the engines next to nothing: it is
/// recorded only for a queued job.
/// </summary>
internal sealed class QueueCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _queued;

    public QueueCounter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == JobDedupTelemetry.Name && instrument.Name == "jobdedup.queue.depth")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, delta, _, _) =>
        {
            if (delta > 0)
            {
                Interlocked.Add(ref _queued, delta);
            }
        });
        _listener.Start();
    }

    /// <summary>Gets the jobs queued since the counter started.</summary>
    public long Queued => Interlocked.Read(ref _queued);

    public void Dispose() => _listener.Dispose();
}
