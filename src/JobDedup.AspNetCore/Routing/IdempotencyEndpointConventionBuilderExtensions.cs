using JobDedup.AspNetCore;
using JobDedup.AspNetCore.Execution;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Makes minimal API endpoints idempotent: a request with an idempotency key runs once per key.</summary>
public static class IdempotencyEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Makes the endpoint idempotent with the default option set (<c>services.AddIdempotency(...)</c>), refined by
    /// <paramref name="configure"/>: the first request with a key runs; a repeat gets its response again (marked
    /// <c>Idempotent-Replayed: true</c>), a repeat sent while it runs waits for it, and a different request under the
    /// same key is refused with 422.
    /// </summary>
    /// <param name="builder">The endpoint.</param>
    /// <param name="configure">Changes the options for this endpoint only (not <see cref="IdempotencyOptions.DedupeWindow"/> or <see cref="IdempotencyOptions.WhenInFlight"/>, which belong to the option set).</param>
    /// <returns>The builder.</returns>
    public static RouteHandlerBuilder WithIdempotency(this RouteHandlerBuilder builder, Action<IdempotencyOptions>? configure = null) =>
        builder.WithIdempotency(string.Empty, configure);

    /// <summary>Makes the endpoint idempotent with a named option set (<c>services.AddIdempotency(name, ...)</c>), refined by <paramref name="configure"/>.</summary>
    /// <param name="builder">The endpoint.</param>
    /// <param name="policy">The option set's name.</param>
    /// <param name="configure">Changes the options for this endpoint only.</param>
    /// <returns>The builder.</returns>
    public static RouteHandlerBuilder WithIdempotency(this RouteHandlerBuilder builder, string policy, Action<IdempotencyOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(policy);
        Apply(builder, policy, configure);
        return builder;
    }

    /// <summary>Makes every endpoint of the group idempotent with the default option set, refined by <paramref name="configure"/>.</summary>
    /// <param name="builder">The group.</param>
    /// <param name="configure">Changes the options for these endpoints only.</param>
    /// <returns>The builder.</returns>
    public static RouteGroupBuilder WithIdempotency(this RouteGroupBuilder builder, Action<IdempotencyOptions>? configure = null) =>
        builder.WithIdempotency(string.Empty, configure);

    /// <summary>Makes every endpoint of the group idempotent with a named option set, refined by <paramref name="configure"/>.</summary>
    /// <param name="builder">The group.</param>
    /// <param name="policy">The option set's name.</param>
    /// <param name="configure">Changes the options for these endpoints only.</param>
    /// <returns>The builder.</returns>
    public static RouteGroupBuilder WithIdempotency(this RouteGroupBuilder builder, string policy, Action<IdempotencyOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(policy);
        Apply(builder, policy, configure);
        return builder;
    }

    private static void Apply(IEndpointConventionBuilder builder, string policy, Action<IdempotencyOptions>? configure) =>
        builder.Add(endpoint =>
        {
            // The whole endpoint (binding, filters, handler and its result) runs inside the engine, so that the request
            // body can be read before binding and the response is held back until it is complete.
            if (endpoint.Metadata.OfType<IdempotentEndpointMarker>().Any())
            {
                throw new InvalidOperationException(
                    $"WithIdempotency is applied twice to '{endpoint.DisplayName}' (on a group and on the endpoint, say); apply it once.");
            }

            var inner = endpoint.RequestDelegate
                ?? throw new InvalidOperationException($"The endpoint '{endpoint.DisplayName}' has no request delegate to make idempotent.");
            var idempotent = IdempotentEndpoint.Create(endpoint.ApplicationServices, policy, configure);
            endpoint.Metadata.Add(IdempotentEndpointMarker.Instance);
            endpoint.RequestDelegate = context => idempotent.ExecuteAsync(context, inner);
        });
}
