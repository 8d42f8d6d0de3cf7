namespace JobDedup.HttpBench.Load;

/// <summary>
/// What one round cost the process (client and server together): processor time, thread-pool work items, and the jobs
/// the engine queued for its dispatcher (a caller that found the dispatcher busy queues its job, which then runs through
/// the thread pool, instead of deciding for itself).
/// </summary>
/// <param name="Cpu">Processor time of the whole process, every thread and the kernel's work for it.</param>
/// <param name="WorkItems">Thread-pool work items completed.</param>
/// <param name="Queued">Jobs the engine queued for its dispatcher.</param>
internal sealed record ProcessCost(TimeSpan Cpu, long WorkItems, long Queued)
{
    /// <summary>Processor time per request, in microseconds (on N cores at most N times the wall-clock time per request).</summary>
    public double CpuMicrosecondsPer(int requests) => Cpu.TotalMilliseconds * 1000 / Math.Max(1, requests);

    /// <summary>Starts measuring; <see cref="Measurement.Stop"/> gives what was spent since.</summary>
    public static Measurement Start(QueueCounter queue) => new(queue);

    /// <summary>A measurement under way.</summary>
    internal sealed class Measurement(QueueCounter queue)
    {
        private readonly TimeSpan _cpu = Environment.CpuUsage.TotalTime;
        private readonly long _workItems = ThreadPool.CompletedWorkItemCount;
        private readonly long _queued = queue.Queued;

        public ProcessCost Stop() => new(
            Environment.CpuUsage.TotalTime - _cpu,
            ThreadPool.CompletedWorkItemCount - _workItems,
            queue.Queued - _queued);
    }
}
