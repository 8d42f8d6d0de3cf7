using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using JobDedup;
using JobDedup.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PaymentsApi.Payments;

namespace PaymentsApi.Tests.Support;

/// <summary>
/// The sample's own app, built by <see cref="PaymentsApiApp.Build"/> and started on Kestrel at 127.0.0.1 on a free
/// port; the test supplies the gateway and talks to it with an <see cref="HttpClient"/>.
/// </summary>
internal sealed class ApiHost : IAsyncDisposable
{
    /// <summary>The name of the deduplicator behind the default idempotency option set.</summary>
    public const string IdempotencyDeduplicator = "idempotency";

    private ApiHost(WebApplication app, Uri address, CountingGateway gateway)
    {
        App = app;
        Gateway = gateway;
        Http = new HttpClient { BaseAddress = address, Timeout = Watchdog.Limit };
        Idempotency = app.Services.GetRequiredKeyedService<IJobDeduplicator<IdempotentRequest, IdempotentResponse>>(IdempotencyDeduplicator);
    }

    public WebApplication App { get; }

    public CountingGateway Gateway { get; }

    public HttpClient Http { get; }

    /// <summary>Gets the idempotency filter's deduplicator: its misses are runs of the endpoint, its hits the requests answered with another's response.</summary>
    public IJobDeduplicator<IdempotentRequest, IdempotentResponse> Idempotency { get; }

    public static async Task<ApiHost> StartAsync(CountingGateway gateway)
    {
        var app = PaymentsApiApp.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [PaymentsApiApp.PortSetting] = "0" });
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
            builder.Services.AddSingleton<IPaymentGateway>(gateway);
        });
        try
        {
            await app.StartAsync().Within();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new ApiHost(app, new Uri(address), gateway);
    }

    /// <summary>A payment body as a client sends it.</summary>
    public static string Body(long amount, string currency = "EUR", string card = "tok_visa_4242", string description = "order 42") =>
        $$"""{"amount":{{amount}},"currency":"{{currency}}","card":"{{card}}","description":"{{description}}"}""";

    /// <summary>Sends <c>POST /payments</c> as <paramref name="client"/>, with <paramref name="key"/> when given.</summary>
    public async Task<Answer> PostAsync(string? client, string? key, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, PaymentEndpoints.PaymentsPath)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (client is not null)
        {
            request.Headers.Add(Clients.HeaderName, client);
        }

        if (key is not null)
        {
            request.Headers.Add(IdempotencyOptions.DefaultKeyHeader, key);
        }

        using var response = await Http.SendAsync(request).Within();
        var text = await response.Content.ReadAsStringAsync().Within();
        var payment = response.StatusCode == System.Net.HttpStatusCode.Created ? JsonSerializer.Deserialize<Payment>(text, JsonSerializerOptions.Web) : null;
        var replayed = response.Headers.TryGetValues(IdempotencyOptions.DefaultReplayedHeader, out var values) && values.Contains("true", StringComparer.OrdinalIgnoreCase);
        return new Answer(response.StatusCode, payment, response.Headers.Location, replayed, text);
    }

    /// <summary>Reads a payment over HTTP as <paramref name="client"/>.</summary>
    public async Task<Payment?> GetAsync(string client, Uri location)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, location);
        request.Headers.Add(Clients.HeaderName, client);
        using var response = await Http.SendAsync(request).Within();
        return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<Payment>(JsonSerializerOptions.Web).Within() : null;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync().Within();
        Http.Dispose();
        await App.DisposeAsync();
    }
}
