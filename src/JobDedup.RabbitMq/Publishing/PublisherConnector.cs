using Microsoft.Extensions.Hosting;

namespace JobDedup.RabbitMq.Publishing;

/// <summary>Connects the registered publisher when the host starts, so a broker that cannot be reached stops the start.</summary>
internal sealed class PublisherConnector(RabbitMqJobPublisher publisher) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => publisher.ConnectAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
