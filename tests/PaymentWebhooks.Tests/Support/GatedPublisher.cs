using JobDedup.RabbitMq;

namespace PaymentWebhooks.Tests.Support;

/// <summary>
/// The sample's RabbitMQ publisher, counting every publish the endpoint makes and, when given a gate, holding each
/// publish there until the test opens it: the endpoint's run stays in progress, so copies sent meanwhile must wait for it.
/// </summary>
internal sealed class GatedPublisher(RabbitMqJobPublisher inner, Gate? gate) : IJobPublisher
{
    private int _publishes;

    /// <summary>Gets how many times the endpoint published.</summary>
    public int Publishes => Volatile.Read(ref _publishes);

    public async Task PublishAsync<TJob>(string key, TJob job, JobPublishProperties? properties = null, CancellationToken cancellationToken = default)
    {
        await ArriveAsync(cancellationToken);
        await inner.PublishAsync(key, job, properties, cancellationToken);
    }

    public async Task PublishAsync(string key, ReadOnlyMemory<byte> body, JobPublishProperties? properties = null, CancellationToken cancellationToken = default)
    {
        await ArriveAsync(cancellationToken);
        await inner.PublishAsync(key, body, properties, cancellationToken);
    }

    private async Task ArriveAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _publishes);
        if (gate is not null)
        {
            await gate.WaitAsync(cancellationToken);
        }
    }
}
