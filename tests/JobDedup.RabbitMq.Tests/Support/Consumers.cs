using JobDedup.RabbitMq.Consuming;
using Microsoft.Extensions.DependencyInjection;

namespace JobDedup.RabbitMq.Tests.Support;

/// <summary>Reaches the consumer a <see cref="ConsumerHost"/> runs, to observe its internal state.</summary>
internal static class Consumers
{
    public static RabbitMqConsumer<RabbitMqMessage, string> Of(ConsumerHost host) =>
        host.Host.Services.GetRequiredKeyedService<RabbitMqConsumer<RabbitMqMessage, string>>(host.Name);
}
