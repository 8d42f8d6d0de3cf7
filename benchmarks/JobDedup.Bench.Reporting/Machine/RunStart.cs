namespace JobDedup.Bench.Reporting.Machine;

/// <summary>A run being recorded: what was read when it started, waiting for its end.</summary>
/// <param name="AtStart">The record as of the start; its finish time and end load are the start's.</param>
public sealed record RunStart(RunInfo AtStart)
{
    /// <summary>Completes the record with the time and load average now.</summary>
    public RunInfo Finish() => AtStart with { Finished = DateTimeOffset.UtcNow, LoadAtEnd = MachineInfo.LoadAverage() };
}
