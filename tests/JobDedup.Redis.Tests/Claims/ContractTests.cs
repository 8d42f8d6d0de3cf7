using JobDedup.Redis.Tests.Support;
using JobDedup.Testing.Contracts;

namespace JobDedup.Redis.Tests.Claims;

/// <summary>The claiming-store contract every store passes (tests/JobDedup.Testing/Contracts), on Redis.</summary>
public sealed class ContractTests(RedisServer redis) : ClaimingStoreContract, IClassFixture<RedisServer>
{
    protected override IClaimingStoreHarness NewHarness() => new RedisStoreHarness(new StoreScope(redis));
}
