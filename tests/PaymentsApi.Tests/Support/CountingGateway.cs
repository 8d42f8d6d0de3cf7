using PaymentsApi.Payments;

namespace PaymentsApi.Tests.Support;

/// <summary>
/// The sample's in-memory gateway, counting every charge the endpoint asks for and, when given a gate, holding each
/// charge there until the test opens it, so that the first request is still running when its retry arrives.
/// </summary>
internal sealed class CountingGateway(Gate? gate = null) : IPaymentGateway
{
    private readonly MemoryPaymentGateway _inner = new(TimeProvider.System);
    private int _charges;

    /// <summary>Gets how many times the endpoint charged a card.</summary>
    public int Charges => Volatile.Read(ref _charges);

    public async Task<Payment> ChargeAsync(string client, PaymentRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _charges);
        if (gate is not null)
        {
            await gate.WaitAsync(cancellationToken);
        }

        return await _inner.ChargeAsync(client, request, cancellationToken);
    }

    public Payment? Find(string id) => _inner.Find(id);

    public IReadOnlyList<Payment> List() => _inner.List();
}
