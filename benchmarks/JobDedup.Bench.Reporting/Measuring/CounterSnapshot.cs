namespace JobDedup.Bench.Reporting.Measuring;

/// <summary>Counters read at one instant: the clock, CPU time of this process, of the watched processes and of the whole machine, the GC, and TCP segments sent.</summary>
/// <param name="Timestamp">A <see cref="System.Diagnostics.Stopwatch"/> timestamp.</param>
/// <param name="ProcessCpu">CPU time of this process.</param>
/// <param name="WatchedCpu">CPU time of the watched processes (e.g. a broker); null when none is seen.</param>
/// <param name="MachineBusy">Busy CPU time of the whole machine (/proc/stat), all cores.</param>
/// <param name="MachineTotal">All CPU time of the machine, busy or idle, all cores.</param>
/// <param name="AllocatedBytes">Bytes this process allocated so far.</param>
/// <param name="Gen0">Gen-0 collections so far.</param>
/// <param name="Gen1">Gen-1 collections so far.</param>
/// <param name="Gen2">Gen-2 collections so far.</param>
/// <param name="TcpSegments">TCP segments the machine sent so far.</param>
public readonly record struct CounterSnapshot(
    long Timestamp,
    TimeSpan ProcessCpu,
    TimeSpan? WatchedCpu,
    TimeSpan? MachineBusy,
    TimeSpan? MachineTotal,
    long AllocatedBytes,
    int Gen0,
    int Gen1,
    int Gen2,
    long? TcpSegments)
{
    /// <summary>Gets the share of the machine's CPU between two snapshots that went to neither this process nor the watched ones: other work.</summary>
    public static double? OtherCpuShare(CounterSnapshot start, CounterSnapshot end)
    {
        if (end.MachineBusy - start.MachineBusy is not { } busy || end.MachineTotal - start.MachineTotal is not { } total || total <= TimeSpan.Zero)
        {
            return null;
        }

        var ours = (end.ProcessCpu - start.ProcessCpu) + ((end.WatchedCpu - start.WatchedCpu) ?? TimeSpan.Zero);
        return Math.Max(0, (busy - ours) / total);
    }

    /// <summary>Gets the machine's busy share (all processes) between two snapshots.</summary>
    public static double? MachineBusyShare(CounterSnapshot start, CounterSnapshot end) =>
        end.MachineBusy - start.MachineBusy is { } busy && end.MachineTotal - start.MachineTotal is { } total && total > TimeSpan.Zero ? busy / total : null;
}
