using System.Diagnostics.Metrics;
using JobDedup;
using JobDedup.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers deduplicators in a service collection.</summary>
public static class JobDedupServiceCollectionExtensions
{
    /// <summary>
    /// Registers a deduplicator named <paramref name="name"/>: resolve it as a keyed
    /// <see cref="IJobDeduplicator{TJob, TResult}"/> with that name (the first one registered for a job and result type
    /// is also the unkeyed service). Its options are checked when the host starts.
    /// </summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <typeparam name="TResult">The handler's result type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The deduplicator's name; unique in the collection. Keys are scoped to it.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>A builder to choose the handler and the outcome store.</returns>
    /// <exception cref="InvalidOperationException">A deduplicator with this name is already registered.</exception>
    public static JobDedupBuilder<TJob, TResult> AddJobDedup<TJob, TResult>(
        this IServiceCollection services,
        string name,
        Action<JobDedupOptions<TJob>>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!JobDedupNames.From(services).Names.Add(name))
        {
            throw new InvalidOperationException($"A deduplicator named '{name}' is already registered; each needs its own name.");
        }

        var registration = new JobDedupRegistration<TJob, TResult>(name);
        services.AddKeyedSingleton(name, registration);
        services.AddOptions<JobDedupOptions<TJob>>(name)
            .Configure(options => configure?.Invoke(options))
            .PostConfigure(options => options.Name = name)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JobDedupOptions<TJob>>, JobDedupOptionsValidator<TJob, TResult>>());

        services.AddKeyedSingleton(name, static (sp, key) =>
        {
            var name = (string)key!;
            var registration = sp.GetRequiredKeyedService<JobDedupRegistration<TJob, TResult>>(name);
            var options = sp.GetRequiredService<IOptionsMonitor<JobDedupOptions<TJob>>>().Get(name);
            return new JobDeduplicator<TJob, TResult>(
                registration.CreateHandler(sp),
                options,
                sp.GetService<ILoggerFactory>(),
                sp.GetService<TimeProvider>(),
                registration.StoreFactory?.Invoke(sp),
                sp.GetService<IMeterFactory>());
        });
        services.AddKeyedSingleton<IJobDeduplicator<TJob, TResult>>(
            name,
            static (sp, key) => sp.GetRequiredKeyedService<JobDeduplicator<TJob, TResult>>(key));
        services.TryAddSingleton<IJobDeduplicator<TJob, TResult>>(
            sp => sp.GetRequiredKeyedService<JobDeduplicator<TJob, TResult>>(name));

        return new JobDedupBuilder<TJob, TResult>(services, registration);
    }
}
