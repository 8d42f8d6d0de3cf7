using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace JobDedup.AspNetCore.Tests.Support;

/// <summary>An application with one idempotent endpoint, POST /orders, backed by an <see cref="OrdersEndpoint"/>.</summary>
public sealed class OrdersApp : IAsyncDisposable
{
    private OrdersApp(TestApp app, OrdersEndpoint orders)
    {
        App = app;
        Orders = orders;
    }

    public TestApp App { get; }

    public HttpClient Client => App.Client;

    public OrdersEndpoint Orders { get; }

    public int Runs => Orders.Runs;

    /// <summary>The deduplicator behind the default option set.</summary>
    public JobDeduplicator<IdempotentRequest, IdempotentResponse> Deduplicator =>
        App.App.Services.GetRequiredKeyedService<JobDeduplicator<IdempotentRequest, IdempotentResponse>>("idempotency");

    public static async Task<OrdersApp> StartAsync(
        Action<IdempotencyOptions>? options = null,
        Action<IServiceCollection>? services = null,
        Action<JobDedupBuilder<IdempotentRequest, IdempotentResponse>>? engine = null,
        OrdersEndpoint? orders = null)
    {
        orders ??= new OrdersEndpoint();
        var app = await TestApp.StartAsync(
            s =>
            {
                var builder = s.AddIdempotency(options);
                engine?.Invoke(builder);
                services?.Invoke(s);
            },
            a => a.MapPost("/orders", (HttpRequest request) => orders.HandleAsync(request)).WithIdempotency());
        return new OrdersApp(app, orders);
    }

    public Task<Answer> PostAsync(string? key, string body = "tea", string mediaType = "text/plain", CancellationToken cancellationToken = default) =>
        Client.SendAsync("/orders", key, body, mediaType, cancellationToken);

    /// <summary>Waits until the key's flight has this many callers attached (the first request and its repeats).</summary>
    public Task CallersAsync(int callers) =>
        Watchdog.Until(() => Deduplicator.GetInFlight(1).Hottest is [{ } hottest] && hottest.Callers == callers, $"{callers} caller(s) on the key");

    public ValueTask DisposeAsync() => App.DisposeAsync();
}
