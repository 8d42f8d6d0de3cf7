using System.Diagnostics.Metrics;
using JobDedup;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers shared calls in a service collection.</summary>
public static class SharedCallServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="SharedCall{TKey, TResult}"/> named <paramref name="name"/>: resolve it as a keyed service
    /// with that name (the first one registered for a key and result type is also the unkeyed service). Its counters
    /// are recorded on the container's meter factory, tagged with the name.
    /// </summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TResult">The work's result type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The shared call's name; unique per key and result type.</param>
    /// <param name="configure">Sets the options; <see cref="SharedCallOptions.Name"/> is set to <paramref name="name"/>.</param>
    /// <param name="comparer">Compares keys; the default comparer when omitted.</param>
    /// <returns>The service collection.</returns>
    /// <exception cref="InvalidOperationException">A shared call with this name, key and result type is already registered.</exception>
    public static IServiceCollection AddSharedCall<TKey, TResult>(
        this IServiceCollection services,
        string name,
        Action<SharedCallOptions>? configure = null,
        IEqualityComparer<TKey>? comparer = null)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(SharedCall<TKey, TResult>) && Equals(descriptor.ServiceKey, name))
            {
                throw new InvalidOperationException($"A shared call named '{name}' is already registered for these types; each needs its own name.");
            }
        }

        var options = new SharedCallOptions();
        configure?.Invoke(options);
        options.Name = name;
        services.AddKeyedSingleton(name, (sp, _) => new SharedCall<TKey, TResult>(options, comparer, sp.GetService<IMeterFactory>()));
        services.TryAddSingleton(sp => sp.GetRequiredKeyedService<SharedCall<TKey, TResult>>(name));
        return services;
    }
}
