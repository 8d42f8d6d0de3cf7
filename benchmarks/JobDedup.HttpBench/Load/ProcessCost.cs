using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace JobDedup.HttpBench.Load;

/// <summary>
/// What one round cost the process (client and server together): processor time, thread-pool work items, and the jobs
/// the engine queued for its dispatcher (a caller that found the dispatcher busy queues its job, which then costs thread
/// switches, instead of deciding for itself).
/// </summary>
/// <param name="Cpu">Processor time of the whole process, every thread and the kernel's work for it.</param>
/// <param name="WorkItems">Thread-pool work items completed.</param>
/// <param name="Queued">Jobs the engine queued for its dispatcher.</param>
internal sealed record ProcessCost(TimeSpan Cpu, long WorkItems, long Queued)
{
    /// <summary>Processor time per request, in microseconds (on two cores about twice the wall-clock time per request).</summary>
    public double CpuMicrosecondsPer(int requests) => Cpu.TotalMilliseconds * 1000 / Math.Max(1, requests);

    /// <summary>Starts measuring; <see cref="Meter.Stop"/> gives what was spent since.</summary>
    public static Meter Start(QueueCounter queue) => new(queue);

    /// <summary>A measurement under way.</summary>
    internal sealed class Meter(QueueCounter queue)
    {
        private readonly TimeSpan _cpu = Process.GetCurrentProcess().TotalProcessorTime;
        private readonly long _workItems = ThreadPool.CompletedWorkItemCount;
        private readonly long _queued = queue.Queued;

        public ProcessCost Stop() => new(
            Process.GetCurrentProcess().TotalProcessorTime - _cpu,
            ThreadPool.CompletedWorkItemCount - _workItems,
            queue.Queued - _queued);
    }
}

/// <summary>Counts the jobs JobDedup's engines queue for their dispatchers, from the queue depth they report.</summary>
internal sealed class QueueCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _queued;

    public QueueCounter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "JobDedup" && instrument.Name == "jobdedup.queue.depth")
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
