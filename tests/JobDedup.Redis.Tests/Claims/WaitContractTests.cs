using JobDedup.Redis.Tests.Support;
using JobDedup.Testing.Contracts;

namespace JobDedup.Redis.Tests.Claims;

/// <summary>The waiting contract every claiming store passes (tests/JobDedup.Testing/Contracts), on Redis: woken by pub/sub.</summary>
public sealed class WaitContractTests(RedisServer redis) : ClaimWaitContract, IClassFixture<RedisServer>
{
    protected override IClaimingStoreHarness NewHarness() => new RedisStoreHarness(new StoreScope(redis));
}
