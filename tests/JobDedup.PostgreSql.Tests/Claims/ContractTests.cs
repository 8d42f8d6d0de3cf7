using JobDedup.PostgreSql.Tests.Support;
using JobDedup.Testing.Contracts;

namespace JobDedup.PostgreSql.Tests.Claims;

/// <summary>The claiming-store contract every store passes (tests/JobDedup.Testing/Contracts), on PostgreSQL.</summary>
public sealed class ContractTests(PostgreSqlDatabase database) : ClaimingStoreContract, IClassFixture<PostgreSqlDatabase>
{
    protected override IClaimingStoreHarness NewHarness() => new PostgreSqlStoreHarness(database.NewSchema());
}
