namespace JobDedup.RabbitMq.Consuming.Settling;

/// <summary>A settlement, and the failure of the user's classifier if it threw (to be logged where effects happen).</summary>
/// <param name="Settlement">The settlement.</param>
/// <param name="ClassifierFailure">What IsPermanentFailure threw, if it did.</param>
internal readonly record struct SettlementDecision(Settlement Settlement, Exception? ClassifierFailure = null);
