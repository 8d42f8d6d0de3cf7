using JobDedup.Worker.Settings;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace JobDedup.Worker.Handlers;

/// <summary>
/// Builds a pipeline's HTTP forward handler on a named client from <see cref="IHttpClientFactory"/> with the standard
/// resilience handler: the in-process retries of an HTTP pipeline happen there (they honour <c>Retry-After</c>), so the
/// deduplicator itself does not retry it.
/// </summary>
internal static class HttpForwarding
{
    /// <summary>The longest single request unless Handler:RequestTimeout says otherwise; the pipeline's AttemptTimeout bounds all of them together.</summary>
    private static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The shortest request timeout the HTTP client's resilience handler accepts.</summary>
    internal static readonly TimeSpan ShortestRequestTimeout = TimeSpan.FromMilliseconds(10);

    public static string ClientName(string pipeline) => $"jobdedup-forward:{pipeline}";

    /// <summary>Registers the named client of one pipeline.</summary>
    public static void AddClient(IServiceCollection services, string pipelineName, PipelineSettings pipeline)
    {
        services.AddHttpClient(ClientName(pipelineName), client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            .AddStandardResilienceHandler(options => Configure(options, pipeline));
    }

    /// <summary>Creates the handler of one pipeline from its registered client.</summary>
    public static HttpForwardHandler Create(IServiceProvider services, string pipelineName, PipelineSettings pipeline) =>
        new(
            services.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName(pipelineName)),
            new Uri(pipeline.Handler.Url!),
            pipeline.Handler.ForwardHeaders,
            pipeline.Handler.Headers);

    /// <summary>
    /// The retries, per request and total timeouts and circuit breaker of one pipeline: MaxRetryAttempts retries with
    /// exponential, jittered delays from RetryDelay (or the endpoint's <c>Retry-After</c>), all within AttemptTimeout.
    /// </summary>
    internal static void Configure(HttpStandardResilienceOptions options, PipelineSettings pipeline)
    {
        var total = pipeline.AttemptTimeout;
        var perRequest = pipeline.Handler.RequestTimeout ?? (total < DefaultRequestTimeout ? total : DefaultRequestTimeout);
        options.TotalRequestTimeout.Timeout = total;
        options.AttemptTimeout.Timeout = perRequest;
        options.CircuitBreaker.SamplingDuration = perRequest * 2 > TimeSpan.FromSeconds(30) ? perRequest * 2 : TimeSpan.FromSeconds(30);
        options.Retry.ShouldRetryAfterHeader = true;
        options.Retry.BackoffType = DelayBackoffType.Exponential;
        options.Retry.UseJitter = true;
        options.Retry.Delay = pipeline.RetryDelay;
        if (pipeline.MaxRetryAttempts > 0)
        {
            options.Retry.MaxRetryAttempts = pipeline.MaxRetryAttempts;
        }
        else
        {
            options.Retry.ShouldHandle = static _ => PredicateResult.False();
        }
    }
}
