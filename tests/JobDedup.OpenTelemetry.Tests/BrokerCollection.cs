namespace JobDedup.OpenTelemetry.Tests;

/// <summary>The broker tests of this project share one broker check and run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class BrokerCollection : ICollectionFixture<Broker>
{
    public const string Name = "broker";
}
