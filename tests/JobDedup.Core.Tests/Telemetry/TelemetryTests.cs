using System.Diagnostics.Metrics;
using JobDedup.Core.Tests.Support;
using Polly;
using Polly.Retry;
using Polly.Telemetry;

namespace JobDedup.Core.Tests.Telemetry;

public sealed class TelemetryTests
{
    [Fact]
    public async Task Metrics_CountJobsByRoleAndFlightsByStatus_NeverTaggingTheKey()
    {
        var name = $"telemetry-{Guid.NewGuid():N}";
        using var metrics = new MetricsRecorder(name);

        var gate = new Gate();
        await using (var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return "v";
            },
            o => o.Name = name))
        {
            var calls = Enumerable.Range(0, 3).Select(_ => dedup.EnqueueAsync(new Job("secret-key-1", "x")).AsTask()).ToArray();
            await Watchdog.Until(() => dedup.GetStats().Hits == 2, "two joined");
            gate.Open();
            await Task.WhenAll(calls).Within();
        }

        var seen = metrics.Measurements;
        long Sum(string instrument, string tag, string value) => metrics.Sum(instrument, tag, value);

        Assert.Equal(1, Sum("jobdedup.jobs.enqueued", "jobdedup.role", "leader"));
        Assert.Equal(2, Sum("jobdedup.jobs.enqueued", "jobdedup.role", "joined"));
        Assert.Equal(1, Sum("jobdedup.flights.completed", "jobdedup.status", "succeeded"));
        Assert.DoesNotContain(seen, m => m.Tags.Values.Any(v => v is string s && s.Contains("secret-key", StringComparison.Ordinal)));
    }

    // "The dedupe key is never a tag": the key is passed to Polly as the operation key, which Polly's telemetry
    // (Polly.Extensions, AddResiliencePipeline) turns into the operation.key tag of every resilience metric.
    [Fact]
    public async Task ResiliencePipeline_CustomPipelineWithTelemetry_NeverSeesTheDedupeKey()
    {
        var listener = new OperationKeyListener();
        var pipeline = new ResiliencePipelineBuilder { TelemetryListener = listener }
            .AddRetry(new RetryStrategyOptions { MaxRetryAttempts = 1, Delay = TimeSpan.Zero })
            .Build();
        await using var dedup = Dedup.Create(
            (job, context, _) => context.Attempt == 1
                ? throw new InvalidOperationException("first attempt fails")
                : ValueTask.FromResult("ok"),
            o => o.ResiliencePipeline = pipeline);

        Assert.Equal("ok", (await dedup.EnqueueAsync(new Job("customer-4711-invoice-99", "x")).Within()).Value);

        Assert.NotEmpty(listener.OperationKeys);
        Assert.DoesNotContain("customer-4711-invoice-99", listener.OperationKeys);
    }

    // An exception never escapes the engine, not even one thrown by a metrics listener while a flight records
    // jobdedup.flights.active: the flight must still complete, or its callers hang and the key stays mapped to a dead
    // flight that every later duplicate joins.
    [Fact]
    public async Task EnqueueAsync_MetricsListenerThrows_CallerStillGetsAnOutcomeAndTheKeyIsFreed()
    {
        var name = $"throwing-meter-{Guid.NewGuid():N}";
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == JobDedupTelemetry.Name && instrument.Name == "jobdedup.flights.active")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == JobDedupTelemetry.DeduplicatorTag && Equals(tag.Value, name) && value > 0)
                {
                    throw new InvalidOperationException("metrics exporter bug");
                }
            }
        });
        listener.Start();

        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult("v"),
            o =>
            {
                o.Name = name;
                o.ShutdownTimeout = TimeSpan.Zero;
            });

        // A hang here is turned into a failure by the watchdog.
        var outcome = await dedup.EnqueueAsync(new Job("k", "x")).Within();

        Assert.NotEqual(JobStatus.Canceled, outcome.Status);
        Assert.Equal(0, dedup.GetStats().Active);
    }

    private sealed class OperationKeyListener : TelemetryListener
    {
        private readonly List<string?> _keys = [];

        public IReadOnlyList<string?> OperationKeys
        {
            get
            {
                lock (_keys)
                {
                    return [.. _keys];
                }
            }
        }

        public override void Write<TResult, TArgs>(in TelemetryEventArguments<TResult, TArgs> args)
        {
            lock (_keys)
            {
                _keys.Add(args.Context.OperationKey);
            }
        }
    }
}
