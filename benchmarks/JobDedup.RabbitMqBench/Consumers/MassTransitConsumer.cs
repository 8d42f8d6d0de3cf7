using JobDedup.RabbitMqBench.Measuring;
using JobDedup.RabbitMqBench.Workload;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace JobDedup.RabbitMqBench.Consumers;

/// <summary>
/// MassTransit.RabbitMQ as an application runs it, on the same queue, prefetch and messages: a host with
/// <c>AddMassTransit</c>, a receive endpoint with the prefetch as its concurrency limit, no retry, outbox or consume
/// topology, the raw JSON body read as a <see cref="BenchJob"/>, and a consumer that only counts. Acks are counted by
/// a receive observer, whose PostReceive MassTransit calls after the ack.
/// </summary>
internal sealed class MassTransitConsumer(string uri) : IBenchConsumer
{
    public string Name => "MassTransit 8.4.0 consumer";

    public IDictionary<string, object?>? QueueArguments => null;

    public async Task RunAsync(string queue, int prefetch, RunCounters counters, CancellationToken deadline)
    {
        var address = new Uri(uri);
        var user = Uri.UnescapeDataString(address.UserInfo.Split(':')[0]);
        var password = address.UserInfo.Contains(':', StringComparison.Ordinal) ? Uri.UnescapeDataString(address.UserInfo[(address.UserInfo.IndexOf(':', StringComparison.Ordinal) + 1)..]) : string.Empty;
        var virtualHost = address.AbsolutePath.Length > 1 ? Uri.UnescapeDataString(address.AbsolutePath[1..]) : "/";

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(counters);
        builder.Services.AddReceiveObserver(_ => new AckObserver(counters));
        builder.Services.AddMassTransit(bus =>
        {
            bus.AddConsumer<CountingConsumer>();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(address.Host, (ushort)(address.IsDefaultPort ? 5672 : address.Port), virtualHost, "jobdedup-bench:masstransit", h =>
                {
                    h.Username(user);
                    h.Password(password);
                });
                rabbit.ReceiveEndpoint(queue, endpoint =>
                {
                    endpoint.PrefetchCount = prefetch;
                    endpoint.ConcurrentMessageLimit = prefetch;
                    endpoint.ConfigureConsumeTopology = false;
                    endpoint.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: true);
                    endpoint.ConfigureConsumer<CountingConsumer>(context);
                });
            });
        });
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = true;
            o.StartTimeout = TimeSpan.FromSeconds(30);
            o.StopTimeout = TimeSpan.FromSeconds(30);
        });

        using var host = builder.Build();
        await host.StartAsync(deadline);
        try
        {
            await counters.Done.WaitAsync(deadline);
        }
        finally
        {
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await host.StopAsync(stopping.Token);
        }
    }

    /// <summary>The trivial consumer: counts the call and returns.</summary>
    internal sealed class CountingConsumer(RunCounters counters) : IConsumer<BenchJob>
    {
        public Task Consume(ConsumeContext<BenchJob> context)
        {
            counters.OnHandled();
            return Task.CompletedTask;
        }
    }

    /// <summary>Counts acks: MassTransit's receive dispatcher calls PostReceive after completing (acking) the delivery.</summary>
    private sealed class AckObserver(RunCounters counters) : IReceiveObserver
    {
        public Task PreReceive(ReceiveContext context) => Task.CompletedTask;

        public Task PostReceive(ReceiveContext context)
        {
            counters.OnAcked();
            return Task.CompletedTask;
        }

        public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType)
            where T : class => Task.CompletedTask;

        public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception)
            where T : class
        {
            counters.Fail($"MassTransit consumer fault: {exception.Message}");
            return Task.CompletedTask;
        }

        public Task ReceiveFault(ReceiveContext context, Exception exception)
        {
            counters.Fail($"MassTransit receive fault: {exception.Message}");
            return Task.CompletedTask;
        }
    }
}
