using JobDedup.Bench.Reporting.Measuring;

namespace JobDedup.RabbitMqBench.Measuring;

/// <summary>One measured run of one consumer over one queue of messages.</summary>
internal sealed record RunResult(
    string Consumer,
    int DuplicatePercent,
    int Round,
    int Messages,
    int DistinctKeys,
    long Acked,
    long Handled,
    TimeSpan Elapsed,
    TimeSpan Publish,
    CounterSnapshot Start,
    CounterSnapshot End,
    uint LeftInQueue,
    string? Failure)
{
    public bool Ok => Failure is null;

    public double MessagesPerSecond => Ok && Elapsed > TimeSpan.Zero ? Messages / Elapsed.TotalSeconds : 0;

    /// <summary>Gets the CPU time this process (consumer and client library) spent per message, in microseconds.</summary>
    public double ClientCpuMicros => (End.ProcessCpu - Start.ProcessCpu).TotalMicroseconds / Messages;

    public double? BrokerCpuMicros => End.WatchedCpu - Start.WatchedCpu is { } broker ? broker.TotalMicroseconds / Messages : null;

    /// <summary>Gets the share of the machine's CPU time that went to neither this process nor the broker: other work.</summary>
    public double? OtherCpuShare => CounterSnapshot.OtherCpuShare(Start, End);

    /// <summary>Gets the machine's busy share (all processes) over the run.</summary>
    public double? MachineBusyShare => CounterSnapshot.MachineBusyShare(Start, End);

    public double AllocatedPerMessage => (double)(End.AllocatedBytes - Start.AllocatedBytes) / Messages;

    /// <summary>Gets the TCP segments the machine sent per message over the run (consumer and broker both ways, loopback).</summary>
    public double? TcpSegmentsPerMessage => End.TcpSegments - Start.TcpSegments is { } segments ? (double)segments / Messages : null;

    public int Gen0 => End.Gen0 - Start.Gen0;

    public int Gen1 => End.Gen1 - Start.Gen1;

    public int Gen2 => End.Gen2 - Start.Gen2;
}
