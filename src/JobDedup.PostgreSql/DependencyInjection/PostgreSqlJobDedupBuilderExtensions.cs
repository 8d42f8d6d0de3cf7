using JobDedup.PostgreSql.DependencyInjection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobDedup;

/// <summary>Keeps the dedupe window of deduplicators registered with <c>AddJobDedup</c> in PostgreSQL.</summary>
public static class PostgreSqlJobDedupBuilderExtensions
{
    /// <summary>
    /// Keeps the deduplicator's outcomes in PostgreSQL and claims each key there before its handler runs, so that
    /// every instance on the database shares one dedupe window and runs a key once. The table is migrated when the
    /// host starts (start fails, naming the server, if the database cannot be reached), and the store is disposed
    /// with the container. Set <see cref="JobDedupOptions{TJob}.DedupeWindow"/>: without a window the deduplicator
    /// uses no store at all.
    /// </summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <typeparam name="TResult">The handler's result type.</typeparam>
    /// <param name="builder">The deduplicator's builder.</param>
    /// <param name="connectionString">The Npgsql connection string (<c>Host=…;Username=…;Password=…;Database=…</c>).</param>
    /// <param name="configure">Changes the other options (schema, table, cleanup, polling, serializer).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">The deduplicator already has a PostgreSQL outcome store.</exception>
    public static JobDedupBuilder<TJob, TResult> UsePostgreSqlOutcomeStore<TJob, TResult>(
        this JobDedupBuilder<TJob, TResult> builder,
        string connectionString,
        Action<PostgreSqlOutcomeStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return builder.UsePostgreSqlOutcomeStore((_, options) =>
        {
            options.ConnectionString = connectionString;
            configure?.Invoke(options);
        });
    }

    /// <summary>
    /// Keeps the deduplicator's outcomes in PostgreSQL, through a data source of the application's (for example the
    /// one <c>AddNpgsqlDataSource</c> registers: <c>sp =&gt; sp.GetRequiredService&lt;NpgsqlDataSource&gt;()</c>), as
    /// <see cref="UsePostgreSqlOutcomeStore{TJob, TResult}(JobDedupBuilder{TJob, TResult}, string, Action{PostgreSqlOutcomeStoreOptions})"/>
    /// does with a connection string. The data source stays the application's: the store never disposes it.
    /// </summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <typeparam name="TResult">The handler's result type.</typeparam>
    /// <param name="builder">The deduplicator's builder.</param>
    /// <param name="dataSource">Resolves the data source.</param>
    /// <param name="configure">Changes the other options (schema, table, cleanup, polling, serializer).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">The deduplicator already has a PostgreSQL outcome store.</exception>
    public static JobDedupBuilder<TJob, TResult> UsePostgreSqlOutcomeStore<TJob, TResult>(
        this JobDedupBuilder<TJob, TResult> builder,
        Func<IServiceProvider, Npgsql.NpgsqlDataSource> dataSource,
        Action<PostgreSqlOutcomeStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(dataSource);
        return builder.UsePostgreSqlOutcomeStore((services, options) =>
        {
            options.DataSource = dataSource(services);
            configure?.Invoke(options);
        });
    }

    private static JobDedupBuilder<TJob, TResult> UsePostgreSqlOutcomeStore<TJob, TResult>(
        this JobDedupBuilder<TJob, TResult> builder,
        Action<IServiceProvider, PostgreSqlOutcomeStoreOptions> configure)
    {
        var name = builder.Name;
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(PostgreSqlOutcomeStore<TResult>) && Equals(d.ServiceKey, name)))
        {
            throw new InvalidOperationException($"Deduplicator '{name}' already has a PostgreSQL outcome store.");
        }

        services.AddOptions<PostgreSqlOutcomeStoreOptions>(name)
            .Configure<IServiceProvider>((options, provider) => configure(provider, options))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgreSqlOutcomeStoreOptions>, StoreOptionsValidator>());

        // Created by the container, so disposed by it (after the deduplicator that uses it, which is created later).
        services.AddKeyedSingleton(name, static (sp, key) => new PostgreSqlOutcomeStore<TResult>(
            sp.GetRequiredService<IOptionsMonitor<PostgreSqlOutcomeStoreOptions>>().Get((string)key!),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<TimeProvider>()));
        builder.UseOutcomeStore(sp => sp.GetRequiredKeyedService<PostgreSqlOutcomeStore<TResult>>(name));
        services.AddSingleton<IHostedService>(sp => new PostgreSqlStoreMigration<TResult>(name, sp.GetRequiredKeyedService<PostgreSqlOutcomeStore<TResult>>(name)));
        return builder;
    }

    private sealed class StoreOptionsValidator : IValidateOptions<PostgreSqlOutcomeStoreOptions>
    {
        public ValidateOptionsResult Validate(string? name, PostgreSqlOutcomeStoreOptions options)
        {
            var errors = options.Validate();
            return errors.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(errors.Select(e => $"PostgreSQL outcome store of deduplicator '{name}': {e}"));
        }
    }
}
