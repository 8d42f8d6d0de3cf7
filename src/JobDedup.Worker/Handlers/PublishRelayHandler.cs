using JobDedup.RabbitMq;

namespace JobDedup.Worker.Handlers;

/// <summary>Republishes one message per key (a deduplicating relay in front of an existing consumer).</summary>
internal sealed class PublishRelayHandler(IJobPublisher publisher, string routingKey) : IJobHandler<RabbitMqMessage, byte[]>
{
    public async ValueTask<byte[]> HandleAsync(RabbitMqMessage job, JobContext context, CancellationToken cancellationToken)
    {
        var properties = new JobPublishProperties
        {
            MessageId = job.MessageId,
            CorrelationId = job.CorrelationId,
            ContentType = job.ContentType,
            RoutingKey = routingKey,
        };
        foreach (var (name, value) in job.Headers)
        {
            if (!name.StartsWith("x-jobdedup-", StringComparison.Ordinal))
            {
                properties.Headers[name] = value;
            }
        }

        await publisher.PublishAsync(context.Key, job.Body, properties, cancellationToken).ConfigureAwait(false);
        return [];
    }
}
