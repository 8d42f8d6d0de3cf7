using JobDedup.Redis.DependencyInjection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobDedup;

/// <summary>Keeps the dedupe window of deduplicators registered with <c>AddJobDedup</c> in Redis.</summary>
public static class RedisJobDedupBuilderExtensions
{
    /// <summary>
    /// Keeps the deduplicator's outcomes in Redis and claims each key there before its handler runs, so that every
    /// instance on the server shares one dedupe window and runs a key once. The store connects when the host starts
    /// (start fails, naming the server, if Redis cannot be reached), and is disposed with the container. Set
    /// <see cref="JobDedupOptions{TJob}.DedupeWindow"/>: without a window the deduplicator uses no store at all.
    /// </summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <typeparam name="TResult">The handler's result type.</typeparam>
    /// <param name="builder">The deduplicator's builder.</param>
    /// <param name="configuration">The StackExchange.Redis configuration string (<c>127.0.0.1:6379</c>).</param>
    /// <param name="configure">Changes the other options (prefix, polling, serializer).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">The deduplicator already has a Redis outcome store.</exception>
    public static JobDedupBuilder<TJob, TResult> UseRedisOutcomeStore<TJob, TResult>(
        this JobDedupBuilder<TJob, TResult> builder,
        string configuration,
        Action<RedisOutcomeStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        var name = builder.Name;
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(RedisOutcomeStore<TResult>) && Equals(d.ServiceKey, name)))
        {
            throw new InvalidOperationException($"Deduplicator '{name}' already has a Redis outcome store.");
        }

        services.AddOptions<RedisOutcomeStoreOptions>(name)
            .Configure(options =>
            {
                options.Configuration = configuration;
                configure?.Invoke(options);
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisOutcomeStoreOptions>, StoreOptionsValidator>());

        // Created by the container, so disposed by it (after the deduplicator that uses it, which is created later).
        services.AddKeyedSingleton(name, static (sp, key) => new RedisOutcomeStore<TResult>(
            sp.GetRequiredService<IOptionsMonitor<RedisOutcomeStoreOptions>>().Get((string)key!),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<TimeProvider>()));
        builder.UseOutcomeStore(sp => sp.GetRequiredKeyedService<RedisOutcomeStore<TResult>>(name));
        services.AddSingleton<IHostedService>(sp => new RedisStoreConnection<TResult>(name, sp.GetRequiredKeyedService<RedisOutcomeStore<TResult>>(name)));
        return builder;
    }

    private sealed class StoreOptionsValidator : IValidateOptions<RedisOutcomeStoreOptions>
    {
        public ValidateOptionsResult Validate(string? name, RedisOutcomeStoreOptions options)
        {
            var errors = options.Validate();
            return errors.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(errors.Select(e => $"Redis outcome store of deduplicator '{name}': {e}"));
        }
    }
}
