using JobDedup.PostgreSql.Tests.Support;
using JobDedup.Testing.Contracts;

namespace JobDedup.PostgreSql.Tests.CrossInstance;

/// <summary>Two deduplicators comparing payload fingerprints on one database (tests/JobDedup.Testing/Contracts/PayloadDedupContract).</summary>
public sealed class PayloadFingerprintTests(PostgreSqlDatabase database) : PayloadDedupContract, IClassFixture<PostgreSqlDatabase>
{
    protected override IClaimingStoreHarness NewHarness() => new PostgreSqlStoreHarness(database.NewSchema());
}
