using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace JobDedup.AspNetCore.Execution;

/// <summary>
/// One registered option set (<c>AddIdempotency</c>): its options and its deduplicator.
/// </summary>
internal sealed class IdempotencyPolicy
{
    public IdempotencyPolicy(string name, IdempotencyOptions options, JobDeduplicator<IdempotentRequest, IdempotentResponse> deduplicator, ILogger logger)
    {
        Name = name;
        Options = options;
        Deduplicator = deduplicator;
        KeyPolicy = deduplicator.KeyPolicy;
        Logger = logger;
    }

    public string Name { get; }

    public IdempotencyOptions Options { get; }

    public IJobDeduplicator<IdempotentRequest, IdempotentResponse> Deduplicator { get; }

    public KeyPolicy KeyPolicy { get; }

    public ILogger Logger { get; }

    /// <summary>The deduplicator's name for an option set: <c>idempotency</c>, or <c>idempotency-{name}</c>.</summary>
    public static string DeduplicatorName(string name) => name.Length == 0 ? "idempotency" : $"idempotency-{name}";

    /// <summary>Finds a registered option set, or says how to register it.</summary>
    /// <exception cref="InvalidOperationException">No option set of that name is registered.</exception>
    public static IdempotencyPolicy Resolve(IServiceProvider services, string name) =>
        services.GetKeyedService<IdempotencyPolicy>(name) ?? throw new InvalidOperationException(name.Length == 0
            ? "Idempotent endpoints need services.AddIdempotency(...) in the application's services."
            : $"No idempotency option set named '{name}' is registered: add services.AddIdempotency(\"{name}\", ...).");
}
