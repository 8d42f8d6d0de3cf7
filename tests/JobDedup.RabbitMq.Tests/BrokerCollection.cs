namespace JobDedup.RabbitMq.Tests;

/// <summary>Broker tests run one at a time: one of them closes every connection on the broker.</summary>
[CollectionDefinition(Name)]
public sealed class BrokerCollection : ICollectionFixture<Broker>
{
    public const string Name = "broker";
}
