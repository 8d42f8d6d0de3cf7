using JobDedup;
using JobDedup.Partitions;
using JobDedup.PostgreSql.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Shares the partitions of a partitioned queue among instances through leases in PostgreSQL.</summary>
public static class PostgreSqlPartitionLeaseBuilderExtensions
{
    /// <summary>
    /// Registers a <see cref="PostgreSqlPartitionLeaseStore"/> as the deduplicator's <see cref="IPartitionLeaseStore"/>:
    /// its partitioned consumer then consumes only the partitions it holds a lease on, its fair share of them, and the
    /// instances rebalance when one joins or leaves. The tables are created when the host starts (start fails, naming
    /// the server, if the database cannot be reached).
    /// </summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <typeparam name="TResult">The handler's result type.</typeparam>
    /// <param name="builder">The deduplicator's builder.</param>
    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="configure">Changes the other options (schema, table prefix, heartbeat, member timeout).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">The deduplicator already has a partition lease store.</exception>
    public static JobDedupBuilder<TJob, TResult> UsePostgreSqlPartitionLeases<TJob, TResult>(
        this JobDedupBuilder<TJob, TResult> builder,
        string connectionString,
        Action<PostgreSqlPartitionLeaseOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var name = builder.Name;
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(IPartitionLeaseStore) && Equals(d.ServiceKey, name)))
        {
            throw new InvalidOperationException($"Deduplicator '{name}' already has a partition lease store.");
        }

        services.AddOptions<PostgreSqlPartitionLeaseOptions>(name)
            .Configure(options =>
            {
                options.ConnectionString = connectionString;
                configure?.Invoke(options);
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgreSqlPartitionLeaseOptions>, LeaseOptionsValidator>());
        services.AddKeyedSingleton(name, static (sp, key) => new PostgreSqlPartitionLeaseStore(
            sp.GetRequiredService<IOptionsMonitor<PostgreSqlPartitionLeaseOptions>>().Get((string)key!)));
        services.AddKeyedSingleton<IPartitionLeaseStore>(name, static (sp, key) => sp.GetRequiredKeyedService<PostgreSqlPartitionLeaseStore>(key));

        // Registered before the consumer's hosted service when called before AddRabbitMqConsumer: the tables exist first.
        services.AddSingleton<IHostedService>(sp => new PostgreSqlPartitionLeasePreparation(name, sp.GetRequiredKeyedService<PostgreSqlPartitionLeaseStore>(name)));
        return builder;
    }

    private sealed class LeaseOptionsValidator : IValidateOptions<PostgreSqlPartitionLeaseOptions>
    {
        public ValidateOptionsResult Validate(string? name, PostgreSqlPartitionLeaseOptions options)
        {
            var errors = options.Validate();
            return errors.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(errors.Select(e => $"PostgreSQL partition leases of deduplicator '{name}': {e}"));
        }
    }
}
