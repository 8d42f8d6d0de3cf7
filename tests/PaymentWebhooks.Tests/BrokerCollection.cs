namespace PaymentWebhooks.Tests;

/// <summary>Tests that run the sample against the real broker run one at a time: they share the deduplicator's name.</summary>
[CollectionDefinition(Name)]
public sealed class BrokerCollection : ICollectionFixture<Broker>
{
    public const string Name = "broker";
}
