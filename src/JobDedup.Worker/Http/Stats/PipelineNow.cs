namespace JobDedup.Worker.Http.Stats;

/// <summary>One pipeline's totals and its state at the last sample, with the history of samples.</summary>
/// <param name="Name">The pipeline's name.</param>
/// <param name="Queue">The queue it consumes.</param>
/// <param name="Totals">The deduplicator's counters since start.</param>
/// <param name="InFlight">Keys in flight.</param>
/// <param name="Queued">Jobs waiting for the dispatcher.</param>
/// <param name="OldestInFlight">The age of the oldest key in flight, in seconds.</param>
/// <param name="DeadLetters">Dead letters since start, by reason.</param>
/// <param name="Hottest">The keys in flight with the most callers; null when keys are not shown.</param>
/// <param name="Samples">One sample a second, oldest first.</param>
internal sealed record PipelineNow(
    string Name,
    string Queue,
    DeduplicationStats Totals,
    int InFlight,
    int Queued,
    double OldestInFlight,
    IReadOnlyDictionary<string, long> DeadLetters,
    IReadOnlyList<HotKey>? Hottest,
    IReadOnlyList<PipelineSample> Samples);
