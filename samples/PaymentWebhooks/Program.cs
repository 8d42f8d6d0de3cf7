using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using PaymentWebhooks;
using PaymentWebhooks.Endpoints;
using PaymentWebhooks.Telemetry;
using RabbitMQ.Client.Exceptions;

// The payment-webhook sample: see README.md. Ctrl+C stops it; deliveries in progress finish first.
WebApplication app;
try
{
    app = PaymentWebhooksApp.Build(args);
}
catch (OptionsValidationException ex)
{
    await Console.Error.WriteLineAsync("The payment webhooks sample cannot start; fix these settings:");
    foreach (var failure in ex.Failures)
    {
        await Console.Error.WriteLineAsync($"  - {failure}");
    }

    return 2;
}

await using (app)
{
    try
    {
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "?";
        Log.Listening(app.Logger, address, WebhookEndpoints.WebhookPath);
        await app.WaitForShutdownAsync();
        return 0;
    }
    catch (Exception ex) when (ex is InvalidOperationException or OptionsValidationException or BrokerUnreachableException)
    {
        // A broker that cannot be reached, or queues that exist with other settings: say so plainly and stop.
        await Console.Error.WriteLineAsync($"The payment webhooks sample stopped: {ex.Message}");
        return 1;
    }
}
