namespace PaymentsApi.Payments;

/// <summary>A payment the API made: the answer to <c>POST /payments</c>, and to every retry of it.</summary>
/// <param name="Id">The payment id; each charge gets a new one, so two ids for one key would mean two charges.</param>
/// <param name="Client">The client that asked for it.</param>
/// <param name="Amount">The amount charged, in minor units.</param>
/// <param name="Currency">The currency.</param>
/// <param name="Card">The card token charged.</param>
/// <param name="Description">What it is for.</param>
/// <param name="CreatedAt">When the charge was made.</param>
internal sealed record Payment(string Id, string Client, long Amount, string Currency, string Card, string? Description, DateTimeOffset CreatedAt);
