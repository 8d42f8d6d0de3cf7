using JobDedup;
using JobDedup.AspNetCore;
using JobDedup.AspNetCore.Execution;
using JobDedup.AspNetCore.Responses;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the option sets of idempotent HTTP endpoints and the deduplicators behind them.</summary>
public static class IdempotencyServiceCollectionExtensions
{
    private const int MaxConcurrentRequests = 10_000;

    /// <summary>
    /// Registers the default option set of idempotent endpoints (<c>WithIdempotency()</c>, <c>[Idempotent]</c>) and
    /// its deduplicator, named <c>idempotency</c>. Responses are kept in memory unless the returned builder is given
    /// an outcome store (<c>.UsePostgreSqlOutcomeStore(...)</c>, <c>.UseRedisOutcomeStore(...)</c>), which several
    /// instances of the application share. The options are checked when the host starts.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The deduplicator's builder, to choose an outcome store or change engine settings.</returns>
    /// <exception cref="InvalidOperationException">The default option set is already registered.</exception>
    public static JobDedupBuilder<IdempotentRequest, IdempotentResponse> AddIdempotency(
        this IServiceCollection services,
        Action<IdempotencyOptions>? configure = null) =>
        services.AddIdempotency(Options.Options.DefaultName, configure);

    /// <summary>
    /// Registers a named option set of idempotent endpoints (<c>WithIdempotency("name")</c>,
    /// <c>[Idempotent("name")]</c>) and its own deduplicator, named <c>idempotency-{name}</c>, so that its keys and
    /// dedupe window are its own.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The option set's name.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The deduplicator's builder, to choose an outcome store or change engine settings.</returns>
    /// <exception cref="InvalidOperationException">An option set with this name is already registered.</exception>
    public static JobDedupBuilder<IdempotentRequest, IdempotentResponse> AddIdempotency(
        this IServiceCollection services,
        string name,
        Action<IdempotencyOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        var deduplicatorName = IdempotencyPolicy.DeduplicatorName(name);
        services.AddOptions<IdempotencyOptions>(name)
            .Configure(options => configure?.Invoke(options))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<IdempotencyOptions>>(new IdempotencyOptionsValidator(name));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, IdempotencyStartupCheck>());

        var builder = services.AddJobDedup<IdempotentRequest, IdempotentResponse>(deduplicatorName)
            .UseHandler(_ => IdempotentRequestHandler.Instance)
            .Configure((provider, options) =>
            {
                var http = provider.GetRequiredService<IOptionsMonitor<IdempotencyOptions>>().Get(name);
                options.DedupeWindow = http.DedupeWindow;
                // Requests with distinct keys must not queue behind each other: the web server bounds concurrency.
                options.MaxConcurrentHandlers = MaxConcurrentRequests;
                // Conflict mode is the engine's Reject policy: a repeat of a key in flight here, or busy on another
                // instance, is refused; a repeat after the run is answered from the window.
                options.OnDuplicate = http.WhenInFlight == InFlightRepeat.Conflict ? DuplicatePolicy.Reject : DuplicatePolicy.Join;
            });

        // Responses are kept in memory packed, one array each (see ResponsePacker), unless the builder is given another
        // store (PostgreSQL, Redis).
        builder.UseOutcomeStore(provider => new MemoryOutcomeStore<IdempotentResponse>(
            provider.GetRequiredService<IOptionsMonitor<JobDedupOptions<IdempotentRequest>>>().Get(deduplicatorName).MaxRetainedOutcomes,
            provider.GetService<TimeProvider>(),
            ResponsePacker.Instance));

        // What makes the engine fit HTTP, whatever else is configured: the endpoint runs once (no retry of a request),
        // in the request that starts the run, runs to its end when its client leaves (so that a retry finds its response), requests are compared, and only
        // the responses chosen when they were captured are kept (never a failure).
        services.PostConfigure<JobDedupOptions<IdempotentRequest>>(deduplicatorName, options =>
        {
            options.MaxRetryAttempts = 0;
            options.ResiliencePipeline = null;
            options.RunToCompletionWhenAbandoned = true;
            // The request that starts a run executes its own endpoint on its own thread, as without the layer.
            options.CallerRunsHandler = true;
            options.Fingerprint = static request => request.Fingerprint;
            options.Retention = static outcome => outcome.Value is IdempotentResponse { Keep: true } ? outcome.DedupeWindow : null;
        });

        services.AddKeyedSingleton(name, static (provider, key) =>
        {
            var name = (string)key!;
            return new IdempotencyPolicy(
                name,
                provider.GetRequiredService<IOptionsMonitor<IdempotencyOptions>>().Get(name),
                provider.GetRequiredKeyedService<JobDeduplicator<IdempotentRequest, IdempotentResponse>>(IdempotencyPolicy.DeduplicatorName(name)),
                provider.GetService<ILoggerFactory>()?.CreateLogger("JobDedup.AspNetCore.Idempotency") ?? NullLogger.Instance);
        });
        return builder;
    }

    private sealed class IdempotencyOptionsValidator(string name) : IValidateOptions<IdempotencyOptions>
    {
        public ValidateOptionsResult Validate(string? optionsName, IdempotencyOptions options)
        {
            if (!string.Equals(optionsName ?? Options.Options.DefaultName, name, StringComparison.Ordinal))
            {
                return ValidateOptionsResult.Skip;
            }

            var errors = options.Validate();
            return errors.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(errors.Select(e => $"Idempotency options '{name}': {e}"));
        }
    }
}
