using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace JobDedup.Testing;

/// <summary>A real host running a deduplicator fed by the RabbitMQ consumer, as an application would.</summary>
public sealed class ConsumerHost : IAsyncDisposable
{
    private bool _stopped;

    private ConsumerHost(IHost host, string name)
    {
        Host = host;
        Name = name;
        Deduplicator = host.Services.GetRequiredKeyedService<IJobDeduplicator<RabbitMqMessage, string>>(name);
    }

    public IHost Host { get; }

    public string Name { get; }

    public IJobDeduplicator<RabbitMqMessage, string> Deduplicator { get; }

    public static async Task<ConsumerHost> StartAsync(
        TestQueue queue,
        Func<RabbitMqMessage, JobContext, CancellationToken, ValueTask<string>> handler,
        Action<JobDedupOptions<RabbitMqMessage>>? dedup = null,
        Action<RabbitMqConsumerOptions<RabbitMqMessage, string>>? consumer = null,
        TimeSpan? shutdownTimeout = null,
        Action<JobDedupBuilder<RabbitMqMessage, string>>? engine = null)
    {
        var host = Build(queue, handler, dedup, consumer, shutdownTimeout, engine);
        await host.StartAsync().WaitAsync(Watchdog.Limit);
        return new ConsumerHost(host, queue.Name);
    }

    public static IHost Build(
        TestQueue queue,
        Func<RabbitMqMessage, JobContext, CancellationToken, ValueTask<string>> handler,
        Action<JobDedupOptions<RabbitMqMessage>>? dedup = null,
        Action<RabbitMqConsumerOptions<RabbitMqMessage, string>>? consumer = null,
        TimeSpan? shutdownTimeout = null,
        Action<JobDedupBuilder<RabbitMqMessage, string>>? engine = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout ?? TimeSpan.FromSeconds(30));
        var dedupBuilder = builder.Services
            .AddJobDedup<RabbitMqMessage, string>(queue.Name, o =>
            {
                o.MaxRetryAttempts = 0;
                dedup?.Invoke(o);
            })
            .UseHandler(handler);
        engine?.Invoke(dedupBuilder);
        dedupBuilder
            .AddRabbitMqConsumer(o =>
            {
                o.ConnectionUri = Broker.Uri;
                o.Queue = queue.Name;
                o.RetryDelays = [TimeSpan.FromMilliseconds(50)];
                o.RecoveryInterval = TimeSpan.FromMilliseconds(500);
                consumer?.Invoke(o);
            });
        return builder.Build();
    }

    /// <summary>Stops the host: the consumer's connection closes, so anything not acked goes back to its queue.</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await Host.StopAsync().WaitAsync(Watchdog.Limit);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (Host is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
    }
}
