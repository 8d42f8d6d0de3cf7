using System.Diagnostics.Metrics;
using System.Reflection;
using JobDedup.OpenTelemetry.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace JobDedup.OpenTelemetry.Tests;

public sealed class MetricsTests
{
    [Fact]
    public async Task HandlerDuration_TwoHundredMilliseconds_LandsInASecondsBucketNotTheFirst()
    {
        using var recorded = new Recorded();
        var name = $"duration-{Guid.NewGuid():N}";
        var time = new FakeTimeProvider();
        await using (var dedup = new JobDeduplicator<string, string>(
            (job, _, _) =>
            {
                time.Advance(TimeSpan.FromMilliseconds(200));
                return ValueTask.FromResult(job);
            },
            new JobDedupOptions<string> { Name = name, KeySelector = j => j, MaxRetryAttempts = 0 },
            timeProvider: time))
        {
            for (var i = 0; i < 3; i++)
            {
                var outcome = await dedup.EnqueueAsync($"k{i}").Within();
                Assert.True(outcome.IsSucceeded);
            }
        }

        var (metric, point, _) = Assert.Single(recorded.Points("jobdedup.handler.duration", name));
        Assert.Equal("s", metric.Unit);
        Assert.Equal(3, point.GetHistogramCount());
        Assert.Equal(0.6, point.GetHistogramSum(), precision: 6);

        var buckets = new List<(double Bound, long Count)>();
        foreach (var bucket in point.GetHistogramBuckets())
        {
            buckets.Add((bucket.ExplicitBound, bucket.BucketCount));
        }

        // Bounds in seconds: the first is 5 ms, not OpenTelemetry's default 0/5/10… (meant for milliseconds).
        Assert.Equal(0.005, buckets[0].Bound);
        var filled = Assert.Single(buckets, b => b.Count > 0);
        Assert.Equal(0.25, filled.Bound);
        Assert.Equal(3, filled.Count);
    }

    [Fact]
    public async Task AddJobDedup_ResolvedFromContainer_RecordsOnTheFactorysMeterWithTheLibraryVersion()
    {
        var name = $"factory-{Guid.NewGuid():N}";
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddJobDedup<string, string>(name, o => o.KeySelector = j => j).UseHandler((job, _, _) => ValueTask.FromResult(job));
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IMeterFactory>();

        var seen = new List<Meter>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == JobDedupTelemetry.Name && instrument.Name == "jobdedup.jobs.enqueued")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == JobDedupTelemetry.DeduplicatorTag && Equals(tag.Value, name))
                {
                    lock (seen)
                    {
                        seen.Add(instrument.Meter);
                    }
                }
            }
        });
        listener.Start();

        var dedup = provider.GetRequiredKeyedService<IJobDeduplicator<string, string>>(name);
        Assert.True((await dedup.EnqueueAsync("k").Within()).IsSucceeded);

        var version = typeof(JobDedupTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Meter meter;
        lock (seen)
        {
            meter = Assert.Single(seen);
        }

        Assert.Same(factory, meter.Scope);
        Assert.False(string.IsNullOrEmpty(meter.Version));
        Assert.Equal(version, meter.Version);
    }

    [Fact]
    public async Task SharedCall_FromContainer_CountsOneLeaderAndEveryJoiner()
    {
        using var recorded = new Recorded();
        var name = $"shared-{Guid.NewGuid():N}";
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddSharedCall<string, int>(name);
        await using var provider = services.BuildServiceProvider();
        var call = provider.GetRequiredKeyedService<SharedCall<string, int>>(name);
        Assert.Same(call, provider.GetRequiredService<SharedCall<string, int>>());
        Assert.Equal(name, call.Name);

        var gate = new Gate();
        var runs = 0;
        async Task<int> Work(CancellationToken ct)
        {
            Interlocked.Increment(ref runs);
            await gate.WaitAsync(ct);
            return 42;
        }

        var leader = call.RunAsync("k", Work);
        await gate.Reached.Within();
        var joiners = Enumerable.Range(0, 3).Select(_ => call.RunAsync("k", Work)).ToArray();
        gate.Open();
        Assert.Equal(42, await leader.Within());
        Assert.All(await Task.WhenAll(joiners).Within(), v => Assert.Equal(42, v));

        Assert.Equal(1, runs);
        Assert.Equal(1, recorded.Sum("jobdedup.jobs.enqueued", name, JobDedupTelemetry.RoleTag, "leader"));
        Assert.Equal(3, recorded.Sum("jobdedup.jobs.enqueued", name, JobDedupTelemetry.RoleTag, "joined"));
        Assert.Equal(1, recorded.Sum("jobdedup.flights.completed", name, JobDedupTelemetry.StatusTag, "succeeded"));
    }

    [Fact]
    public async Task SharedCall_WorkFails_CountsAFailedFlight()
    {
        using var recorded = new Recorded();
        var name = $"shared-fail-{Guid.NewGuid():N}";
        var call = new SharedCall<string, int>(new SharedCallOptions { Name = name });

        await Assert.ThrowsAsync<InvalidOperationException>(() => call.RunAsync("k", _ => Task.FromException<int>(new InvalidOperationException("boom"))));

        Assert.Equal(1, recorded.Sum("jobdedup.flights.completed", name, JobDedupTelemetry.StatusTag, "failed"));
        Assert.Equal(0, recorded.Sum("jobdedup.flights.completed", name, JobDedupTelemetry.StatusTag, "succeeded"));
    }

    [Fact]
    public void AddSharedCall_SameNameTwice_FailsNamingIt()
    {
        var services = new ServiceCollection();
        services.AddSharedCall<string, int>("twice");
        var error = Assert.Throws<InvalidOperationException>(() => services.AddSharedCall<string, int>("twice"));
        Assert.Contains("'twice'", error.Message, StringComparison.Ordinal);
    }
}
