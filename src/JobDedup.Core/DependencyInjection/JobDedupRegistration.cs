using Microsoft.Extensions.DependencyInjection;

namespace JobDedup.DependencyInjection;

/// <summary>What the builder collected for one named deduplicator.</summary>
internal sealed class JobDedupRegistration<TJob, TResult>(string name)
{
    public string Name { get; } = name;

    public Func<IServiceProvider, IJobHandler<TJob, TResult>>? HandlerFactory { get; set; }

    public Func<IServiceProvider, IOutcomeStore<TResult>>? StoreFactory { get; set; }

    public IJobHandler<TJob, TResult> CreateHandler(IServiceProvider services) =>
        HandlerFactory?.Invoke(services) ?? throw new InvalidOperationException(NoHandlerMessage(Name));

    public static string NoHandlerMessage(string name) =>
        $"Deduplicator '{name}' has no handler: call UseHandler<THandler>() or UseHandler(delegate) on the builder returned by AddJobDedup.";
}

/// <summary>The names registered in one service collection, so that two deduplicators cannot share one.</summary>
internal sealed class JobDedupNames
{
    public HashSet<string> Names { get; } = new(StringComparer.Ordinal);

    public static JobDedupNames From(IServiceCollection services)
    {
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(JobDedupNames) && descriptor.ImplementationInstance is JobDedupNames names)
            {
                return names;
            }
        }

        var created = new JobDedupNames();
        services.AddSingleton(created);
        return created;
    }
}
