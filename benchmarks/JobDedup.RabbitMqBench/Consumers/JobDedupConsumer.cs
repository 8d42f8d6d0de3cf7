using System.Diagnostics.Metrics;
using JobDedup.RabbitMq;
using JobDedup.RabbitMqBench.Measuring;
using JobDedup.RabbitMqBench.Workload;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace JobDedup.RabbitMqBench.Consumers;

/// <summary>
/// The JobDedup consumer as an application runs it: a host with <c>AddJobDedup</c> and <c>AddRabbitMqConsumer</c>,
/// the JSON body read as a <see cref="BenchJob"/>, the message id as the dedupe key (the default key rule), and a
/// handler that only counts. Acks are counted from JobDedup's own metric
/// <c>jobdedup.rabbitmq.deliveries.settled</c>, which it records after each ack is sent.
/// </summary>
internal sealed class JobDedupConsumer(string uri) : IBenchConsumer, IDisposable
{
    private readonly MeterListener _listener = new();
    private volatile RunCounters? _current;
    private volatile string? _currentName;
    private long _otherSettlements;

    public string Name => "JobDedup consumer";

    public IDictionary<string, object?>? QueueArguments { get; } = new Dictionary<string, object?> { ["x-queue-type"] = "classic" };

    /// <summary>Gets the settlements other than acks (requeue, retry, dead-letter, park) seen in the last run: none expected.</summary>
    public long OtherSettlements => Interlocked.Read(ref _otherSettlements);

    public void Listen()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RabbitMqTelemetry.MeterName && instrument.Name == RabbitMqTelemetry.DeliveriesSettled)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnSettled);
        _listener.Start();
    }

    public async Task RunAsync(string queue, int prefetch, RunCounters counters, CancellationToken deadline)
    {
        Interlocked.Exchange(ref _otherSettlements, 0);
        _currentName = queue;
        _current = counters;
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services
            .AddJobDedup<BenchJob, string>(queue, o =>
            {
                // No retries inside the flight, as MassTransit is run without retries; the handler never fails anyway.
                o.MaxRetryAttempts = 0;
            })
            .UseHandler((job, context, cancellationToken) =>
            {
                counters.OnHandled();
                return ValueTask.FromResult("done");
            })
            .AddRabbitMqConsumer(o =>
            {
                o.ConnectionUri = uri;
                o.Queue = queue;
                o.Prefetch = prefetch;
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
            _current = null;
        }
    }

    public void Dispose() => _listener.Dispose();

    private void OnSettled(Instrument instrument, long measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (_current is not { } counters)
        {
            return;
        }

        string? deduplicator = null;
        string? settlement = null;
        foreach (var tag in tags)
        {
            if (tag.Key == JobDedupTelemetry.DeduplicatorTag)
            {
                deduplicator = tag.Value as string;
            }
            else if (tag.Key == RabbitMqTelemetry.SettlementTag)
            {
                settlement = tag.Value as string;
            }
        }

        if (deduplicator != _currentName)
        {
            return;
        }

        if (settlement == "ack")
        {
            for (var i = 0L; i < measurement; i++)
            {
                counters.OnAcked();
            }
        }
        else
        {
            Interlocked.Add(ref _otherSettlements, measurement);
            counters.Fail($"JobDedup settled {measurement} delivery(ies) as '{settlement}' instead of acking");
        }
    }
}
