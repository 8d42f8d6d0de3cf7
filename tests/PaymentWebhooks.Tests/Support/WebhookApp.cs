using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using JobDedup;
using JobDedup.AspNetCore;
using JobDedup.RabbitMq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using PaymentWebhooks.Ledger;
using PaymentWebhooks.Payments;
using PaymentWebhooks.Receipts;

namespace PaymentWebhooks.Tests.Support;

/// <summary>
/// The sample's own web app, built by <see cref="PaymentWebhooksApp.Build"/> and started on Kestrel at 127.0.0.1 on a
/// free port, against the real broker; the test supplies the clock, the ledger and the queue names.
/// </summary>
internal sealed class WebhookApp : IAsyncDisposable
{
    public const string Secret = "whsec_tests_only_4f1d0c9a7e2b";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private bool _stopped;

    private WebhookApp(WebApplication app, Uri address, FakeTimeProvider clock)
    {
        App = app;
        Clock = clock;
        Http = new HttpClient { BaseAddress = address, Timeout = Watchdog.Limit };
        Receipts = app.Services.GetRequiredService<ReceiptBook>();
        Deduplicator = app.Services.GetRequiredKeyedService<IJobDeduplicator<PaymentEvent, Charge>>(PaymentWebhooksApp.DeduplicatorName);
        Idempotency = app.Services.GetRequiredKeyedService<IJobDeduplicator<IdempotentRequest, IdempotentResponse>>(IdempotencyDeduplicator);
        Publisher = (GatedPublisher)app.Services.GetRequiredService<IJobPublisher>();
    }

    /// <summary>The name of the deduplicator behind the default idempotency option set, which the endpoint uses.</summary>
    public const string IdempotencyDeduplicator = "idempotency";

    public WebApplication App { get; }

    public FakeTimeProvider Clock { get; }

    public HttpClient Http { get; }

    public ReceiptBook Receipts { get; }

    /// <summary>Gets the consumer's deduplicator: one handler run per event id among the deliveries.</summary>
    public IJobDeduplicator<PaymentEvent, Charge> Deduplicator { get; }

    /// <summary>Gets the endpoint's deduplicator (the idempotency filter's): one run of the endpoint per event id and sender.</summary>
    public IJobDeduplicator<IdempotentRequest, IdempotentResponse> Idempotency { get; }

    /// <summary>Gets the publisher the endpoint uses, counting its publishes.</summary>
    public GatedPublisher Publisher { get; }

    public static async Task<WebhookApp> StartAsync(
        TestQueue queue,
        string outcomeQueue,
        IChargeLedger ledger,
        FakeTimeProvider clock,
        ILoggerProvider? logs = null,
        Gate? publishGate = null)
    {
        var app = PaymentWebhooksApp.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["PaymentWebhooks:Port"] = "0",
                ["PaymentWebhooks:SigningSecret"] = Secret,
                ["PaymentWebhooks:RabbitMqUri"] = Broker.Uri,
                ["PaymentWebhooks:Queue"] = queue.Name,
                ["PaymentWebhooks:OutcomeQueue"] = outcomeQueue,
            });
            // Rules for the provider itself, so that the levels in the sample's appsettings.json do not apply here.
            builder.Logging.ClearProviders();
            if (logs is null)
            {
                builder.Logging.AddSimpleConsole(o => o.SingleLine = true).AddFilter<ConsoleLoggerProvider>(null, LogLevel.Warning);
            }
            else
            {
                builder.Logging.AddProvider(logs).AddFilter<CapturedLogs>(null, LogLevel.Trace);
            }

            builder.Services.AddSingleton<TimeProvider>(clock);
            builder.Services.AddSingleton(ledger);

            // Registered before the sample's own, which it then leaves alone: the real publisher, counted (and held).
            builder.Services.AddSingleton<IJobPublisher>(sp => new GatedPublisher(sp.GetRequiredService<RabbitMqJobPublisher>(), publishGate));
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
        return new WebhookApp(app, new Uri(address), clock);
    }

    /// <summary>Sends a webhook signed with the right secret at the app's current time.</summary>
    public Task<Sent> SendSignedAsync(string eventId, byte[] body, string what = "signed copy") =>
        PostAsync(eventId, body, Signer.Sign(Secret, Clock.GetUtcNow(), body), what);

    public async Task<Sent> PostAsync(string eventId, byte[] body, string? signature, string what)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/payments") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Signature", signature);
        }

        using var response = await Http.SendAsync(request).Within();
        var replayed = response.Headers.TryGetValues(IdempotencyOptions.DefaultReplayedHeader, out var values) && values.Contains("true", StringComparer.OrdinalIgnoreCase);
        return new Sent(eventId, response.StatusCode, response.Headers.Location, what, replayed);
    }

    /// <summary>Reads a receipt over HTTP, from the address the 202 answer gave.</summary>
    public async Task<Receipt> ReadReceiptAsync(Uri location) =>
        await Http.GetFromJsonAsync<Receipt>(location, Json).Within() ?? throw new InvalidOperationException($"No receipt at {location}.");

    public async Task<IReadOnlyList<Charge>> ReadLedgerAsync() =>
        await Http.GetFromJsonAsync<List<Charge>>("/ledger", Json).Within() ?? [];

    /// <summary>Stops the app: the endpoint closes, and the consumer settles every delivery it holds before it returns.</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await App.StopAsync().Within();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Http.Dispose();
        await App.DisposeAsync();
    }
}
