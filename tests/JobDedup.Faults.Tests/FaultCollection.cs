using JobDedup.Faults.Tests.Servers;

namespace JobDedup.Faults.Tests;

/// <summary>Every fault case runs one after the other on the suite's own broker node and database cluster.</summary>
[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<FaultServers>
{
    public const string Name = "faults";
}
