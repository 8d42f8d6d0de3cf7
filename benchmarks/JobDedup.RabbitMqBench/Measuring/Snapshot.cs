namespace JobDedup.RabbitMqBench.Measuring;

/// <summary>Counters read at one instant: the clock, CPU time of this process, of the broker and of the whole machine, the GC, and TCP segments sent.</summary>
internal readonly record struct Snapshot(
    long Timestamp,
    TimeSpan ProcessCpu,
    TimeSpan? BrokerCpu,
    TimeSpan? MachineBusy,
    TimeSpan? MachineTotal,
    long AllocatedBytes,
    int Gen0,
    int Gen1,
    int Gen2,
    long? TcpSegments);
