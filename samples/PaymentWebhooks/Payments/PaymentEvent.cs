using System.Text;
using System.Text.Json;

namespace PaymentWebhooks.Payments;

/// <summary>
/// A payment provider's webhook event, as it arrives in the body:
/// <c>{"id":"evt_1001","type":"payment.succeeded","amount":4999,"currency":"EUR","reference":"order-42"}</c>.
/// </summary>
/// <param name="Id">The provider's event id: the same on every delivery of one event, so it is the dedupe key.</param>
/// <param name="Type">The event type, such as <c>payment.succeeded</c>.</param>
/// <param name="Amount">The amount in minor units (cents).</param>
/// <param name="Currency">The ISO 4217 currency code, such as <c>EUR</c>.</param>
/// <param name="Reference">The merchant's reference (order or booking), if any.</param>
internal sealed record PaymentEvent(string Id, string Type, long Amount, string Currency, string? Reference)
{
    /// <summary>The longest event id accepted: it travels as the message id, which RabbitMQ caps at 255 bytes.</summary>
    public const int MaxIdBytes = 200;

    /// <summary>Gets the JSON settings of events and charges: camelCase names, as payment providers send them.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>Reads and checks an event.</summary>
    /// <param name="body">The body, UTF-8 JSON.</param>
    /// <returns>The event.</returns>
    /// <exception cref="FormatException">The body is not a usable event; the message says why, without quoting the body.</exception>
    public static PaymentEvent Read(ReadOnlySpan<byte> body)
    {
        PaymentEvent? payment;
        try
        {
            payment = JsonSerializer.Deserialize<PaymentEvent>(body, Json);
        }
        catch (JsonException ex)
        {
            // The JSON error's message can quote the body, so only its position is kept.
            throw new FormatException($"The body is not a JSON payment event (error at byte {ex.BytePositionInLine ?? 0} of line {ex.LineNumber ?? 0}).");
        }

        if (payment is null)
        {
            throw new FormatException("The body is not a JSON payment event.");
        }

        if (string.IsNullOrWhiteSpace(payment.Id) || Encoding.UTF8.GetByteCount(payment.Id) > MaxIdBytes)
        {
            throw new FormatException($"The event needs an \"id\" of 1 to {MaxIdBytes} bytes.");
        }

        if (string.IsNullOrWhiteSpace(payment.Type) || payment.Type.Length > 100)
        {
            throw new FormatException("The event needs a \"type\" of 1 to 100 characters.");
        }

        if (payment.Amount < 0)
        {
            throw new FormatException("The event's \"amount\" must not be negative.");
        }

        if (payment.Currency is not { Length: 3 } currency || !currency.All(char.IsAsciiLetterUpper))
        {
            throw new FormatException("The event needs a \"currency\" of three capital letters, such as EUR.");
        }

        if (payment.Reference is { Length: > 200 })
        {
            throw new FormatException("The event's \"reference\" must be at most 200 characters.");
        }

        return payment;
    }
}
