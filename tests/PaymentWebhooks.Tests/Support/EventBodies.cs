using System.Text;

namespace PaymentWebhooks.Tests.Support;

/// <summary>Webhook bodies as a provider sends them.</summary>
internal static class EventBodies
{
    public static byte[] Body(string id, long amount, string reference = "order-1", string currency = "EUR", string type = "payment.succeeded") =>
        Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","type":"{{type}}","amount":{{amount}},"currency":"{{currency}}","reference":"{{reference}}"}""");

    /// <summary>A fresh event id, so that no test sees another's events.</summary>
    public static string NewId(string label) => $"evt_{label}_{Guid.NewGuid():N}";
}
