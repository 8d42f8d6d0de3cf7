using JobDedup.Core.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace JobDedup.Core.Tests.DependencyInjection;

public sealed class AddJobDedupTests
{
    [Fact]
    public async Task AddJobDedup_TwoNames_AreSeparateDeduplicatorsWithTheirOwnHandlers()
    {
        var services = new ServiceCollection();
        services.AddJobDedup<Job, string>("payments", o => o.KeySelector = j => j.Key)
            .UseHandler((job, ctx, _) => ValueTask.FromResult($"{ctx.DeduplicatorName}:{job.Payload}"));
        services.AddJobDedup<Job, string>("bookings", o => o.KeySelector = j => j.Key)
            .UseHandler<BookingHandler>();
        services.AddSingleton<BookingLog>();

        await using var provider = services.BuildServiceProvider();
        var payments = provider.GetRequiredKeyedService<IJobDeduplicator<Job, string>>("payments");
        var bookings = provider.GetRequiredKeyedService<IJobDeduplicator<Job, string>>("bookings");

        Assert.Equal("payments:a", (await payments.EnqueueAsync(new Job("k", "a")).Within()).Value);
        Assert.Equal("booked a", (await bookings.EnqueueAsync(new Job("k", "a")).Within()).Value);
        Assert.Same(payments, provider.GetRequiredService<IJobDeduplicator<Job, string>>());
        Assert.Equal(1, provider.GetRequiredService<BookingLog>().Scopes);
    }

    [Fact]
    public async Task BindConfiguration_NamedByTheDeduplicator_SetsItsOptionsFromConfiguration()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Dedup:Payments:DedupeWindow"] = "01:00:00" });
        var payments = builder.Services.AddJobDedup<Job, string>("payments", o => o.KeySelector = j => j.Key)
            .UseHandler((job, _, _) => ValueTask.FromResult(job.Payload));
        builder.Services.AddOptions<JobDedupOptions<Job>>(payments.Name).BindConfiguration("Dedup:Payments");
        using var host = builder.Build();
        var dedup = host.Services.GetRequiredKeyedService<IJobDeduplicator<Job, string>>("payments");

        var first = await dedup.EnqueueAsync(new Job("k", "first")).Within();
        var later = await dedup.EnqueueAsync(new Job("k", "later")).Within();

        Assert.Equal(JobRole.Leader, first.Role);
        Assert.Equal(JobRole.Replayed, later.Role); // kept for the window read from configuration
        Assert.Equal("first", later.Value);
    }

    [Fact]
    public async Task Configure_WithTheServiceProvider_ReadsServicesOfTheContainer()
    {
        var services = new ServiceCollection();
        services.AddSingleton(new WindowSetting(TimeSpan.FromHours(1)));
        services.AddJobDedup<Job, string>("payments", o => o.KeySelector = j => j.Key)
            .UseHandler((job, _, _) => ValueTask.FromResult(job.Payload))
            .Configure((sp, o) => o.DedupeWindow = sp.GetRequiredService<WindowSetting>().Window);
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptionsMonitor<JobDedupOptions<Job>>>().Get("payments");

        Assert.Equal(TimeSpan.FromHours(1), options.DedupeWindow);
    }

    [Fact]
    public void AddJobDedup_SameNameTwice_Throws()
    {
        var services = new ServiceCollection();
        services.AddJobDedup<Job, string>("payments");

        var error = Assert.Throws<InvalidOperationException>(() => services.AddJobDedup<Job, int>("payments"));

        Assert.Contains("payments", error.Message);
    }

    [Fact]
    public async Task HostStart_InvalidOption_FailsNamingTheOption()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobDedup<Job, string>("payments", o => o.MaxConcurrentHandlers = 0)
            .UseHandler((job, _, _) => ValueTask.FromResult("v"));
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("MaxConcurrentHandlers", error.Message);
        Assert.Contains("payments", error.Message);
    }

    [Fact]
    public async Task HostStart_NoHandler_FailsSayingWhatToCall()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobDedup<Job, string>("payments");
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("UseHandler", error.Message);
    }

    [Fact]
    public async Task AddJobDedup_TheNameAlwaysWins_OverAConfiguredName()
    {
        var services = new ServiceCollection();
        services.AddJobDedup<Job, string>("payments", o => o.Name = "other")
            .UseHandler((job, ctx, _) => ValueTask.FromResult(ctx.DeduplicatorName));
        await using var provider = services.BuildServiceProvider();

        var dedup = provider.GetRequiredKeyedService<IJobDeduplicator<Job, string>>("payments");

        Assert.Equal("payments", dedup.Name);
    }

    public sealed class BookingLog
    {
        private int _scopes;

        public int Scopes => _scopes;

        public void Scope() => Interlocked.Increment(ref _scopes);
    }

    public sealed class BookingHandler : IJobHandler<Job, string>, IDisposable
    {
        public BookingHandler(BookingLog log) => log.Scope();

        public ValueTask<string> HandleAsync(Job job, JobContext context, CancellationToken cancellationToken) =>
            ValueTask.FromResult($"booked {job.Payload}");

        public void Dispose()
        {
        }
    }
}

internal sealed record WindowSetting(TimeSpan Window);
