namespace PaymentWebhooks.Receipts;

/// <summary>Where one accepted webhook delivery stands.</summary>
internal enum ReceiptStatus
{
    /// <summary>Queued; its outcome has not come back yet.</summary>
    Pending,

    /// <summary>The event is in the ledger; <see cref="Receipt.Charge"/> is its entry.</summary>
    Succeeded,

    /// <summary>The event could not be recorded and was dead-lettered; <see cref="Receipt.Error"/> says why.</summary>
    Failed,
}
