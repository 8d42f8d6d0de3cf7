using System.Globalization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PaymentsApi.Payments;

namespace PaymentsApi;

/// <summary>
/// Builds the sample: <c>POST /payments</c> behind JobDedup's idempotency filter, so that a client that retries with the
/// same <c>Idempotency-Key</c> is charged once.
/// <code>
/// client ─ POST /payments + Idempotency-Key ─ X-Client-Id? (401) ─ idempotency filter ─ charge ─ 201 + payment
///                                                                      │ same client and key again:
///                                                       running → wait, same answer; done → same answer (replayed);
///                                                       another body → 422; no key → 400
/// </code>
/// </summary>
internal static class PaymentsApiApp
{
    /// <summary>The configuration setting of the port on 127.0.0.1.</summary>
    public const string PortSetting = "PaymentsApi:Port";

    /// <summary>The port used when none is configured.</summary>
    public const int DefaultPort = 5090;

    /// <summary>Builds the application from configuration.</summary>
    /// <param name="args">Command-line arguments, which are also configuration.</param>
    /// <param name="configure">
    /// Changes the builder before the sample registers its services: add configuration, or register an
    /// <see cref="IPaymentGateway"/> or a <see cref="TimeProvider"/> to use instead of the sample's own.
    /// </param>
    /// <returns>The application, not yet started.</returns>
    /// <exception cref="InvalidOperationException">The port setting is not a port number; the message names it.</exception>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        var port = Port(builder.Configuration[PortSetting]);

        // Loopback only: the sample is for one machine.
        builder.WebHost.UseUrls($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<IPaymentGateway, MemoryPaymentGateway>();

        // Responses are kept in memory for 24 hours (the default): a retry within a day gets the first answer.
        builder.Services.AddIdempotency();

        var app = builder.Build();
        app.MapPayments();
        return app;
    }

    private static int Port(string? setting) =>
        setting is null ? DefaultPort
        : int.TryParse(setting, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535 ? port
        : throw new InvalidOperationException($"{PortSetting} must be a port number from 0 to 65535, not '{setting}'.");
}
