using System.Security.Cryptography;

namespace PaymentsApi.Payments;

/// <summary>The sample's gateway, in memory: each call is a charge with a new id. It forgets everything at a restart.</summary>
internal sealed class MemoryPaymentGateway(TimeProvider clock) : IPaymentGateway
{
    private readonly List<Payment> _payments = [];
    private readonly Dictionary<string, Payment> _byId = new(StringComparer.Ordinal);
    private readonly Lock _sync = new();

    /// <inheritdoc/>
    public Task<Payment> ChargeAsync(string client, PaymentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var payment = new Payment(
            $"pay_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}",
            client,
            request.Amount,
            request.Currency!,
            request.Card!,
            request.Description,
            clock.GetUtcNow());
        lock (_sync)
        {
            _payments.Add(payment);
            _byId.Add(payment.Id, payment);
        }

        return Task.FromResult(payment);
    }

    /// <inheritdoc/>
    public Payment? Find(string id)
    {
        lock (_sync)
        {
            return _byId.GetValueOrDefault(id);
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<Payment> List()
    {
        lock (_sync)
        {
            return [.. _payments];
        }
    }
}
