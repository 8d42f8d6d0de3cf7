namespace JobDedup.RabbitMqBench.Workload;

/// <summary>The job every consumer reads: the same JSON body for all of them.</summary>
/// <param name="Id">The message's sequence number.</param>
/// <param name="Key">The dedupe key (also the message id property).</param>
/// <param name="Padding">Filler up to the chosen body size.</param>
public sealed record BenchJob(long Id, string Key, string Padding);
