using JobDedup.Redis.Tests.Support;
using JobDedup.Testing.Contracts;

namespace JobDedup.Redis.Tests.CrossInstance;

/// <summary>Two deduplicators comparing payload fingerprints on one Redis (tests/JobDedup.Testing/Contracts/PayloadDedupContract).</summary>
public sealed class PayloadFingerprintTests(RedisServer redis) : PayloadDedupContract, IClassFixture<RedisServer>
{
    protected override IClaimingStoreHarness NewHarness() => new RedisStoreHarness(new StoreScope(redis));
}
