namespace PaymentsApi.Payments;

/// <summary>The body of <c>POST /payments</c>: <c>{"amount":4999,"currency":"EUR","card":"tok_visa_4242","description":"order 42"}</c>.</summary>
/// <param name="Amount">The amount in minor units (cents), more than zero.</param>
/// <param name="Currency">The ISO 4217 currency code, such as <c>EUR</c>.</param>
/// <param name="Card">The token of the card to charge, as the card vault gave it.</param>
/// <param name="Description">What the payment is for, if anything.</param>
internal sealed record PaymentRequest(long Amount, string? Currency, string? Card, string? Description)
{
    /// <summary>The largest amount accepted, in minor units.</summary>
    public const long MaxAmount = 100_000_000;

    /// <summary>Lists what is wrong with the request, by field, for a 400 answer.</summary>
    /// <returns>The problems; empty when the request can be charged.</returns>
    public Dictionary<string, string[]> Problems()
    {
        var problems = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (Amount is <= 0 or > MaxAmount)
        {
            problems["amount"] = [$"The amount must be from 1 to {MaxAmount} minor units."];
        }

        if (Currency is not { Length: 3 } currency || !currency.All(char.IsAsciiLetterUpper))
        {
            problems["currency"] = ["The currency must be three capital letters, such as EUR."];
        }

        if (string.IsNullOrWhiteSpace(Card) || Card.Length > 64)
        {
            problems["card"] = ["The card token must be 1 to 64 characters."];
        }

        if (Description is { Length: > 200 })
        {
            problems["description"] = ["The description must be at most 200 characters."];
        }

        return problems;
    }
}
