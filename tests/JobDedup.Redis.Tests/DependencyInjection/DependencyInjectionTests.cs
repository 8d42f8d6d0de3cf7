using JobDedup.Redis.Tests.Support;
using JobDedup.Testing.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace JobDedup.Redis.Tests.DependencyInjection;

/// <summary><c>UseRedisOutcomeStore</c>: connected when the host starts, used by the deduplicator, disposed with the container.</summary>
public sealed class DependencyInjectionTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task HostStarts_TheStoreConnects_AndOutcomesOutliveTheHost()
    {
        var prefix = "jdt-di-" + Guid.NewGuid().ToString("N")[..8];
        var runs = 0;
        RedisOutcomeStore<string> firstStore;
        using (var host = BuildHost(redis.Configuration, o => o.Prefix = prefix, () => Interlocked.Increment(ref runs)))
        {
            await host.StartAsync();
            var first = await host.Services.GetRequiredKeyedService<IJobDeduplicator<Job, string>>("orders").EnqueueAsync(new Job("order-1", "first")).Within();
            firstStore = host.Services.GetRequiredKeyedService<RedisOutcomeStore<string>>("orders");
            await host.StopAsync();

            Assert.Equal(JobRole.Leader, first.Role);
            Assert.Equal("handled first", (await firstStore.TryGetAsync("orders", "order-1", default))!.Value.Value);
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(() => firstStore.ConnectAsync());
        using (var host = BuildHost(redis.Configuration, o => o.Prefix = prefix, () => Interlocked.Increment(ref runs)))
        {
            await host.StartAsync();
            var replay = await host.Services.GetRequiredKeyedService<IJobDeduplicator<Job, string>>("orders").EnqueueAsync(new Job("order-1", "again")).Within();
            await host.StopAsync();

            Assert.Equal(JobRole.Replayed, replay.Role);
            Assert.Equal("handled first", replay.Value);
        }

        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task RedisUnreachable_StartFailsWithAMessageNamingTheServer()
    {
        using var host = BuildHost("127.0.0.1:1,password=hunter2,connectTimeout=500", o => o.OperationTimeout = TimeSpan.FromMilliseconds(500), () => { });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync().Within());

        Assert.Contains("Deduplicator 'orders' could not reach its Redis outcome store jobdedup:outcomes on 127.0.0.1:1", error.Message);
        Assert.Contains("Check that the server is running", error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
    }

    [Fact]
    public async Task InvalidOptions_StartFailsNamingEachOption()
    {
        using var host = BuildHost(redis.Configuration, o =>
        {
            o.Prefix = "";
            o.PollInterval = TimeSpan.Zero;
        }, () => { });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().Within());

        Assert.Contains("Redis outcome store of deduplicator 'orders': Prefix must be", error.Message);
        Assert.Contains("PollInterval must be between 10 ms and 1 hour", error.Message);
    }

    [Fact]
    public void UseRedisOutcomeStore_Twice_Throws()
    {
        var services = new ServiceCollection();
        var builder = services.AddJobDedup<Job, string>("orders").UseHandler((job, _, _) => ValueTask.FromResult(job.Payload));
        builder.UseRedisOutcomeStore(redis.Configuration);

        var error = Assert.Throws<InvalidOperationException>(() => builder.UseRedisOutcomeStore(redis.Configuration));

        Assert.Contains("already has a Redis outcome store", error.Message);
    }

    private static IHost BuildHost(string configuration, Action<RedisOutcomeStoreOptions> configure, Action onRun)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services
            .AddJobDedup<Job, string>("orders", o =>
            {
                o.KeySelector = job => job.Key;
                o.DedupeWindow = TimeSpan.FromHours(1);
            })
            .UseHandler((job, _, _) =>
            {
                onRun();
                return ValueTask.FromResult("handled " + job.Payload);
            })
            .UseRedisOutcomeStore(configuration, configure);
        return builder.Build();
    }
}
