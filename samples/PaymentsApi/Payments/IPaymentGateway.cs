namespace PaymentsApi.Payments;

/// <summary>Where cards are charged: a payment service provider in a real API, memory in this sample.</summary>
internal interface IPaymentGateway
{
    /// <summary>Charges the card. Every call is a new charge: the gateway does not know about retries.</summary>
    /// <param name="client">The client the charge is for.</param>
    /// <param name="request">What to charge.</param>
    /// <param name="cancellationToken">Cancels the charge.</param>
    /// <returns>The payment made.</returns>
    Task<Payment> ChargeAsync(string client, PaymentRequest request, CancellationToken cancellationToken);

    /// <summary>Finds a payment by id.</summary>
    /// <param name="id">The payment id.</param>
    /// <returns>The payment, or <see langword="null"/>.</returns>
    Payment? Find(string id);

    /// <summary>Lists every payment made, oldest first.</summary>
    /// <returns>The payments.</returns>
    IReadOnlyList<Payment> List();
}
