using JobDedup.DependencyInjection;
using JobDedup.Running;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace JobDedup;

/// <summary>Configures one named deduplicator registered with <c>AddJobDedup</c>.</summary>
/// <typeparam name="TJob">The job type.</typeparam>
/// <typeparam name="TResult">The handler's result type.</typeparam>
public sealed class JobDedupBuilder<TJob, TResult>
{
    private readonly JobDedupRegistration<TJob, TResult> _registration;

    internal JobDedupBuilder(IServiceCollection services, JobDedupRegistration<TJob, TResult> registration)
    {
        Services = services;
        _registration = registration;
    }

    /// <summary>Gets the service collection the deduplicator is registered in.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Gets the deduplicator's name (its service key).</summary>
    public string Name => _registration.Name;

    /// <summary>
    /// Runs jobs with <typeparamref name="THandler"/>, resolved in a new scope for each attempt, so it may depend on
    /// scoped services such as a database context.
    /// </summary>
    /// <typeparam name="THandler">The handler type; registered as scoped unless already registered.</typeparam>
    /// <returns>This builder.</returns>
    public JobDedupBuilder<TJob, TResult> UseHandler<THandler>()
        where THandler : class, IJobHandler<TJob, TResult>
    {
        Services.TryAddScoped<THandler>();
        _registration.HandlerFactory = static sp =>
            new ScopedJobHandler<TJob, TResult, THandler>(sp.GetRequiredService<IServiceScopeFactory>());
        return this;
    }

    /// <summary>Runs jobs with a delegate.</summary>
    /// <param name="handler">The handler.</param>
    /// <returns>This builder.</returns>
    public JobDedupBuilder<TJob, TResult> UseHandler(Func<TJob, JobContext, CancellationToken, ValueTask<TResult>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _registration.HandlerFactory = _ => new DelegateJobHandler<TJob, TResult>(handler);
        return this;
    }

    /// <summary>Runs jobs with a handler created once from the container.</summary>
    /// <param name="factory">Creates the handler.</param>
    /// <returns>This builder.</returns>
    public JobDedupBuilder<TJob, TResult> UseHandler(Func<IServiceProvider, IJobHandler<TJob, TResult>> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _registration.HandlerFactory = factory;
        return this;
    }

    /// <summary>Keeps the dedupe window in the given store instead of in memory.</summary>
    /// <param name="factory">Creates the store.</param>
    /// <returns>This builder.</returns>
    public JobDedupBuilder<TJob, TResult> UseOutcomeStore(Func<IServiceProvider, IOutcomeStore<TResult>> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _registration.StoreFactory = factory;
        return this;
    }

    /// <summary>Changes the deduplicator's options further.</summary>
    /// <param name="configure">Changes the options.</param>
    /// <returns>This builder.</returns>
    public JobDedupBuilder<TJob, TResult> Configure(Action<JobDedupOptions<TJob>> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(Name, configure);
        return this;
    }

    /// <summary>
    /// Changes the deduplicator's options with services from the container (its configuration, say). The options are
    /// named options, by <see cref="Name"/>: <c>Services.AddOptions&lt;JobDedupOptions&lt;TJob&gt;&gt;(Name).BindConfiguration("Section")</c>
    /// binds them from configuration.
    /// </summary>
    /// <param name="configure">Changes the options, given the service provider.</param>
    /// <returns>This builder.</returns>
    public JobDedupBuilder<TJob, TResult> Configure(Action<IServiceProvider, JobDedupOptions<TJob>> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.AddOptions<JobDedupOptions<TJob>>(Name).Configure<IServiceProvider>((options, services) => configure(services, options));
        return this;
    }
}
