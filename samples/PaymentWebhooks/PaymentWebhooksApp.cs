using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PaymentWebhooks.Endpoints;
using PaymentWebhooks.Ledger;
using PaymentWebhooks.Payments;
using PaymentWebhooks.Receipts;
using PaymentWebhooks.Settings;

namespace PaymentWebhooks;

/// <summary>
/// Builds the sample: the webhook endpoint and, in the same process, the worker that records each event once.
/// <code>
/// POST /webhooks/payments ─ signature ok? ─ idempotency filter (key = event id, scope = sender) ─ first copy only:
///                            (401/400/413)    other copies: the first one's 202, waited for or replayed
///                                                      │ publish to RabbitMQ (key = event id, confirmed) ─ 202 + receipt
///                                                      │
///               JobDedup consumer ─ one handler run per event id, answer kept 24 h ─ ledger
///                                                      │ every delivery's outcome (reply-to)
///                                             outcome queue ─ receipt completed
/// </code>
/// </summary>
internal static class PaymentWebhooksApp
{
    /// <summary>The deduplicator's name; it also names the RabbitMQ connections.</summary>
    public const string DeduplicatorName = "payment-webhooks";

    /// <summary>Builds the application from configuration.</summary>
    /// <param name="args">Command-line arguments, which are also configuration.</param>
    /// <param name="configure">
    /// Changes the builder before the sample reads its settings and registers its services: add configuration, or
    /// register an <see cref="IChargeLedger"/> or a <see cref="TimeProvider"/> to use instead of the sample's own.
    /// </param>
    /// <returns>The application, not yet started.</returns>
    /// <exception cref="OptionsValidationException">A setting is missing or wrong; each failure names its setting.</exception>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        var options = ReadOptions(builder.Configuration);

        // Loopback only, whatever ASPNETCORE_URLS or --urls say: this set-up is for one machine.
        builder.WebHost.UseUrls($"http://127.0.0.1:{options.Port}");
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase)));

        var services = builder.Services;
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IChargeLedger, MemoryChargeLedger>();
        services.AddSingleton(new ReceiptBook(options.MaxReceipts));
        services.AddSingleton<WebhookIntake>();
        services.AddSingleton<WebhookReceiver>();

        // The endpoint's idempotency: the first copy of an event publishes it; every other copy within the window gets
        // that copy's 202 (the same receipt) without a second publish.
        services.AddIdempotency(o => o.DedupeWindow = options.DedupeWindow)
            .Configure(o => o.MaxRetainedOutcomes = options.MaxRememberedEvents);

        // Registered before the consumer, so it is consuming outcomes before the first delivery can produce one.
        services.AddHostedService<OutcomeListener>();

        services.AddJobDedup<PaymentEvent, Charge>(DeduplicatorName, o =>
            {
                // The second line: a delivery the broker sends again (after a lost ack, a restart) is answered from here.
                o.DedupeWindow = options.DedupeWindow;
                o.MaxRetainedOutcomes = options.MaxRememberedEvents;
            })
            .UseHandler<PaymentEventHandler>()
            .AddRabbitMqConsumer(o =>
            {
                o.ConnectionUri = options.RabbitMqUri;
                o.ConnectionName = $"jobdedup:{DeduplicatorName}:consumer";
                o.Queue = options.Queue;

                // The key comes from the x-dedupe-key header the publisher sets to the event id. The body is read
                // with the same checks as the endpoint's, so a message that did not come through it cannot slip by.
                o.Deserializer = message => PaymentEvent.Read(message.Body.Span);
                o.JsonOptions = PaymentEvent.Json;
            });
        services.AddJobPublisher(o =>
        {
            o.ConnectionUri = options.RabbitMqUri;
            o.ConnectionName = $"jobdedup:{DeduplicatorName}:publisher";
            o.RoutingKey = options.Queue;
        });

        var app = builder.Build();
        app.MapPaymentWebhooks();
        app.MapHealthChecks("/health");
        return app;
    }

    private static PaymentWebhooksOptions ReadOptions(ConfigurationManager configuration)
    {
        var options = new PaymentWebhooksOptions();
        try
        {
            configuration.GetSection(PaymentWebhooksOptions.Section).Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex)
        {
            // The binder wraps the useful part (which setting, which value) in the inner exceptions.
            var reason = ex;
            while (reason.InnerException is InvalidOperationException inner)
            {
                reason = inner;
            }

            throw new OptionsValidationException(PaymentWebhooksOptions.Section, typeof(PaymentWebhooksOptions), [reason.Message]);
        }

        if (configuration[PaymentWebhooksOptions.RabbitMqUriVariable] is { Length: > 0 } fromEnvironment)
        {
            options.RabbitMqUri = fromEnvironment;
        }

        var problems = options.Validate();
        return problems.Count == 0
            ? options
            : throw new OptionsValidationException(PaymentWebhooksOptions.Section, typeof(PaymentWebhooksOptions), problems);
    }
}
