using JobDedup.Redis.Tests.Support;
using JobDedup.Testing.Contracts;

namespace JobDedup.Redis.Tests.Claims;

/// <summary>The payload contract (fingerprints and kept failures, tests/JobDedup.Testing/Contracts), on Redis.</summary>
public sealed class PayloadContractTests(RedisServer redis) : PayloadStoreContract, IClassFixture<RedisServer>
{
    protected override IClaimingStoreHarness NewHarness() => new RedisStoreHarness(new StoreScope(redis));
}
