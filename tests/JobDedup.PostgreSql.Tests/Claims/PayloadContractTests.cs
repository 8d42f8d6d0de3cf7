using JobDedup.PostgreSql.Tests.Support;
using JobDedup.Testing.Contracts;

namespace JobDedup.PostgreSql.Tests.Claims;

/// <summary>The payload contract (fingerprints and kept failures, tests/JobDedup.Testing/Contracts), on PostgreSQL.</summary>
public sealed class PayloadContractTests(PostgreSqlDatabase database) : PayloadStoreContract, IClassFixture<PostgreSqlDatabase>
{
    protected override IClaimingStoreHarness NewHarness() => new PostgreSqlStoreHarness(database.NewSchema());
}
