namespace JobDedup.Worker.Tests;

/// <summary>Worker tests run one at a time against the real broker.</summary>
[CollectionDefinition(Name)]
public sealed class BrokerCollection : ICollectionFixture<Broker>
{
    public const string Name = "broker";
}
