using JobDedup.RabbitMq;

namespace JobDedup.Worker.Http.Stats;

/// <summary>
/// One pipeline as the sampler follows it: its deduplicator, the samples kept, and what the last sample saw. Only
/// the sampler writes it; readers take <see cref="Latest"/> (replaced whole) and a copy of the ring.
/// </summary>
internal sealed class SampledPipeline(string name, string queue, IJobDeduplicator<RabbitMqMessage, byte[]> deduplicator, int capacity)
{
    private PipelineNow? _latest;

    public string Name { get; } = name;

    public string Queue { get; } = queue;

    public IJobDeduplicator<RabbitMqMessage, byte[]> Deduplicator { get; } = deduplicator;

    public StatsRing<PipelineSample> Samples { get; } = new(capacity);

    /// <summary>Gets or sets the counters the previous sample saw (the sampler's own).</summary>
    public DeduplicationStats Previous { get; set; }

    /// <summary>Gets or sets the dead letters the previous sample saw (the sampler's own).</summary>
    public long PreviousDeadLetters { get; set; }

    /// <summary>Gets or sets the pipeline's state at the last sample, without its history.</summary>
    public PipelineNow? Latest
    {
        get => Volatile.Read(ref _latest);
        set => Volatile.Write(ref _latest, value);
    }
}
