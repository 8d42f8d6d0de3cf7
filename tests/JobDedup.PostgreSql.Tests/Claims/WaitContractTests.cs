using JobDedup.PostgreSql.Tests.Support;
using JobDedup.Testing.Contracts;

namespace JobDedup.PostgreSql.Tests.Claims;

/// <summary>The waiting contract every claiming store passes (tests/JobDedup.Testing/Contracts), on PostgreSQL: woken by NOTIFY.</summary>
public sealed class WaitContractTests(PostgreSqlDatabase database) : ClaimWaitContract, IClassFixture<PostgreSqlDatabase>
{
    protected override IClaimingStoreHarness NewHarness() => new PostgreSqlStoreHarness(database.NewSchema());
}
