using JobDedup;
using JobDedup.Redis.Health;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="SharedCache"/> instances.</summary>
public static class SharedCacheServiceCollectionExtensions
{
    /// <summary>The name of the cache registered without one: resolve it as <see cref="SharedCache"/>.</summary>
    public const string DefaultName = "default";

    /// <summary>Registers the default cache, resolved as <see cref="SharedCache"/> (and as the keyed service <see cref="DefaultName"/>).</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options; <see cref="SharedCacheOptions.Configuration"/> is required.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddJobDedupCache(this IServiceCollection services, Action<SharedCacheOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddJobDedupCache(services, DefaultName, configure);
        services.TryAddSingleton(static sp => sp.GetRequiredKeyedService<SharedCache>(DefaultName));
        return services;
    }

    /// <summary>
    /// Registers a named cache, resolved as the keyed service <c>SharedCache</c> with key <paramref name="name"/>. Its
    /// options are validated when the host starts (a wrong setting fails the start, naming the cache and the setting),
    /// it gets a health check named <c>jobdedup-cache-{name}</c>, and the container disposes it.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The cache's name.</param>
    /// <param name="configure">Sets the options; <see cref="SharedCacheOptions.Configuration"/> is required.</param>
    /// <returns>The services.</returns>
    /// <exception cref="InvalidOperationException">A cache with this name is already registered.</exception>
    public static IServiceCollection AddJobDedupCache(this IServiceCollection services, string name, Action<SharedCacheOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        if (services.Any(d => d.ServiceType == typeof(SharedCache) && Equals(d.ServiceKey, name)))
        {
            throw new InvalidOperationException($"A cache named '{name}' is already registered.");
        }

        services.AddOptions<SharedCacheOptions>(name).Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SharedCacheOptions>, CacheOptionsValidator>());
        services.AddKeyedSingleton(name, static (sp, key) => new SharedCache(
            sp.GetRequiredService<IOptionsMonitor<SharedCacheOptions>>().Get((string)key!),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<TimeProvider>(),
            (string)key!));
        services.AddHealthChecks().Add(new HealthCheckRegistration(
            $"jobdedup-cache-{name}",
            sp => new SharedCacheHealthCheck(sp.GetRequiredKeyedService<SharedCache>(name)),
            HealthStatus.Degraded,
            ["jobdedup", "cache"]));
        return services;
    }

    private sealed class CacheOptionsValidator : IValidateOptions<SharedCacheOptions>
    {
        public ValidateOptionsResult Validate(string? name, SharedCacheOptions options)
        {
            var errors = options.Validate();
            return errors.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(errors.Select(e => $"Cache '{name}': {e}"));
        }
    }
}
