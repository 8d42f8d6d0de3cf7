using JobDedup.RabbitMqBench.Consumers;

namespace JobDedup.RabbitMqBench;

/// <summary>One row of the table: a consumer, and the share of duplicate messages in its queue.</summary>
/// <param name="Id">A short name, also the queue's suffix.</param>
/// <param name="Consumer">The consumer.</param>
/// <param name="DuplicatePercent">0, or 90 for 10 consecutive messages per key.</param>
/// <param name="IsBaseline">The raw consumer, which the ratios compare with.</param>
/// <param name="IsSubject">A JobDedup row, which the targets are about.</param>
/// <param name="IsReference">The raw consumer acking in batches: no ratio column, but the floor of the targets without duplicates.</param>
internal sealed record Scenario(string Id, IBenchConsumer Consumer, int DuplicatePercent, bool IsBaseline, bool IsSubject, bool IsReference = false)
{
    public string Queue => $"{Workload.BenchQueues.Prefix}{Id}";

    public string Label => DuplicatePercent == 0 ? Consumer.Name : $"{Consumer.Name}, {DuplicatePercent}% duplicates";
}
