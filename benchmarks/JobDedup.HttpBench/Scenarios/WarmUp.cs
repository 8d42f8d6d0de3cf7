namespace JobDedup.HttpBench.Scenarios;

/// <summary>How the throughput scenarios warmed up before their first measured round.</summary>
/// <param name="Cycles">Cycles of a second of each contender's requests.</param>
/// <param name="Took">How long the warm-up took.</param>
/// <param name="LastCycleJit">How long the JIT compiled during the last cycle.</param>
internal sealed record WarmUp(int Cycles, TimeSpan Took, TimeSpan LastCycleJit);
