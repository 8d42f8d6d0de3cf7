using JobDedup.PostgreSql.Tests.Support;
using JobDedup.Testing.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace JobDedup.PostgreSql.Tests.DependencyInjection;

/// <summary><c>UsePostgreSqlOutcomeStore</c>: migrated when the host starts, used by the deduplicator, disposed with the container.</summary>
public sealed class DependencyInjectionTests(PostgreSqlDatabase database) : IClassFixture<PostgreSqlDatabase>
{
    [Fact]
    public async Task HostStarts_TheTableIsMigrated_AndOutcomesOutliveTheHost()
    {
        await using var schema = database.NewSchema();
        var runs = 0;
        PostgreSqlOutcomeStore<string> firstStore;

        using (var host = BuildHost(schema.ConnectionString, o => (o.Schema, o.Table) = (schema.Name, schema.Table), () => Interlocked.Increment(ref runs)))
        {
            await host.StartAsync();
            var versions = await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".jobdedup_schema_versions");
            var dedup = host.Services.GetRequiredKeyedService<IJobDeduplicator<Job, string>>("orders");
            var first = await dedup.EnqueueAsync(new Job("order-1", "first")).Within();
            firstStore = host.Services.GetRequiredKeyedService<PostgreSqlOutcomeStore<string>>("orders");
            await host.StopAsync();

            Assert.Equal(1L, versions);
            Assert.Equal(JobRole.Leader, first.Role);
            Assert.Equal(1, await schema.CountAsync("scope = 'orders' AND key = 'order-1' AND status = 'completed'"));
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(() => firstStore.MigrateAsync());
        using (var host = BuildHost(schema.ConnectionString, o => (o.Schema, o.Table) = (schema.Name, schema.Table), () => Interlocked.Increment(ref runs)))
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
    public async Task UsePostgreSqlOutcomeStore_TheApplicationsDataSource_KeepsOutcomesThereAndLeavesItOpen()
    {
        await using var schema = database.NewSchema();
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(schema.ConnectionString);
        var runs = 0;
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(dataSource);
        builder.Services
            .AddJobDedup<Job, string>("orders", o =>
            {
                o.KeySelector = job => job.Key;
                o.DedupeWindow = TimeSpan.FromHours(1);
            })
            .UseHandler((job, _, _) =>
            {
                Interlocked.Increment(ref runs);
                return ValueTask.FromResult("handled " + job.Payload);
            })
            .UsePostgreSqlOutcomeStore(sp => sp.GetRequiredService<Npgsql.NpgsqlDataSource>(), o => (o.Schema, o.Table) = (schema.Name, schema.Table));

        using (var host = builder.Build())
        {
            await host.StartAsync();
            var dedup = host.Services.GetRequiredKeyedService<IJobDeduplicator<Job, string>>("orders");
            var first = await dedup.EnqueueAsync(new Job("order-1", "first")).Within();
            var again = await dedup.EnqueueAsync(new Job("order-1", "again")).Within();
            await host.StopAsync();

            Assert.Equal(JobRole.Leader, first.Role);
            Assert.Equal(JobRole.Replayed, again.Role);
        }

        // The host (and the store) are gone; the application's data source still works and holds the outcome.
        await using var command = dataSource.CreateCommand($"SELECT count(*) FROM {schema.QualifiedTable} WHERE status = 'completed'");
        Assert.Equal(1L, (long)(await command.ExecuteScalarAsync())!);
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task DatabaseUnreachable_StartFailsWithAMessageNamingTheServer()
    {
        using var host = BuildHost("Host=127.0.0.1;Port=1;Username=nobody;Database=nowhere;Timeout=5", o => o.Table = "unreachable", () => { });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync().Within());

        Assert.Contains("Deduplicator 'orders' could not prepare its PostgreSQL outcome store public.unreachable on 127.0.0.1:1/nowhere", error.Message);
        Assert.Contains("Check that the server is running", error.Message);
        Assert.DoesNotContain("nobody", error.Message);
    }

    [Fact]
    public async Task InvalidOptions_StartFailsNamingEachOption()
    {
        using var host = BuildHost(database.ConnectionString, o =>
        {
            o.Table = "bad-name";
            o.CleanupBatchSize = 0;
        }, () => { });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().Within());

        Assert.Contains("PostgreSQL outcome store of deduplicator 'orders': Table must be", error.Message);
        Assert.Contains("CleanupBatchSize must be between 1 and 100,000", error.Message);
    }

    [Fact]
    public void UsePostgreSqlOutcomeStore_Twice_Throws()
    {
        var services = new ServiceCollection();
        var builder = services.AddJobDedup<Job, string>("orders").UseHandler((job, _, _) => ValueTask.FromResult(job.Payload));
        builder.UsePostgreSqlOutcomeStore(database.ConnectionString);

        var error = Assert.Throws<InvalidOperationException>(() => builder.UsePostgreSqlOutcomeStore(database.ConnectionString));

        Assert.Contains("already has a PostgreSQL outcome store", error.Message);
    }

    private static IHost BuildHost(string connectionString, Action<PostgreSqlOutcomeStoreOptions> configure, Action onRun)
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
            .UsePostgreSqlOutcomeStore(connectionString, configure);
        return builder.Build();
    }
}
