using JobDedup.RabbitMqBench.Measuring;

namespace JobDedup.RabbitMqBench.Consumers;

/// <summary>One way of consuming the queue: started, left to run until every message is acked, then stopped.</summary>
internal interface IBenchConsumer
{
    /// <summary>Gets the name shown in the table.</summary>
    string Name { get; }

    /// <summary>Gets the arguments the consumer declares its queue with, so the pre-filled queue matches them.</summary>
    IDictionary<string, object?>? QueueArguments { get; }

    /// <summary>Consumes <paramref name="queue"/> until <paramref name="counters"/> reports done (or the deadline), then stops.</summary>
    /// <param name="queue">The pre-filled queue.</param>
    /// <param name="prefetch">The prefetch (and, for MassTransit, the concurrency limit).</param>
    /// <param name="counters">Where calls and acks are counted.</param>
    /// <param name="deadline">Cancelled when the run has taken too long.</param>
    Task RunAsync(string queue, int prefetch, RunCounters counters, CancellationToken deadline);
}
