using System.Diagnostics;
using JobDedup.PostgreSql.Tests.Support;

namespace JobDedup.PostgreSql.Tests.Partitions;

/// <summary>The partition lease store on the real server: one owner per partition, and when a dead member's leases free up.</summary>
public sealed class PartitionLeaseStoreTests(PostgreSqlDatabase database) : IClassFixture<PostgreSqlDatabase>
{
    private const string Group = "orders";

    [Fact]
    public async Task RenewAsync_TwoMembers_BothAreLiveAndSorted()
    {
        await using var schema = database.NewSchema();
        await using var a = Store(schema);
        await using var b = Store(schema);

        await b.RenewAsync(Group, "m-b");
        var view = await a.RenewAsync(Group, "m-a");

        Assert.Equal(["m-a", "m-b"], view.Members);
        Assert.Empty(view.Owners);
    }

    [Fact]
    public async Task TryAcquireAsync_PartitionHeldByALiveMember_IsRefusedUntilReleased()
    {
        await using var schema = database.NewSchema();
        await using var a = Store(schema);
        await using var b = Store(schema);
        await a.RenewAsync(Group, "m-a");
        await b.RenewAsync(Group, "m-b");

        Assert.True(await a.TryAcquireAsync(Group, "m-a", 0));
        Assert.True(await a.TryAcquireAsync(Group, "m-a", 0)); // holding it already
        Assert.False(await b.TryAcquireAsync(Group, "m-b", 0));
        Assert.Equal("m-a", (await b.RenewAsync(Group, "m-b")).Owners[0]);

        await a.ReleaseAsync(Group, "m-a", 0);

        Assert.True(await b.TryAcquireAsync(Group, "m-b", 0));
        Assert.Equal("m-b", (await a.RenewAsync(Group, "m-a")).Owners[0]);
    }

    [Fact]
    public async Task TryAcquireAsync_ManyMembersRacingForOnePartition_OneWins()
    {
        await using var schema = database.NewSchema();
        var stores = Enumerable.Range(0, 6).Select(_ => Store(schema)).ToArray();
        try
        {
            for (var i = 0; i < stores.Length; i++)
            {
                await stores[i].RenewAsync(Group, $"m-{i}");
            }

            var won = await Task.WhenAll(stores.Select((store, i) => store.TryAcquireAsync(Group, $"m-{i}", 3)));

            Assert.Equal(1, won.Count(w => w));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task TryAcquireAsync_OwnerWhoseSessionEnded_FreesItsLeasesAfterTheSessionGraceNotTheMemberTimeout()
    {
        await using var schema = database.NewSchema();
        var a = Store(schema);
        await using var b = Store(schema);
        await b.RenewAsync(Group, "m-b");
        var lastRenewal = Stopwatch.StartNew(); // started before a's last renewal: the grace counts from the server's now() in it
        await a.RenewAsync(Group, "m-a");
        Assert.True(await a.TryAcquireAsync(Group, "m-a", 0));

        await a.DisposeAsync(); // as a crash does: the session ends without leaving
        Assert.False(await b.TryAcquireAsync(Group, "m-b", 0)); // within the grace, still a's
        await Watchdog.Until(() => b.TryAcquireAsync(Group, "m-b", 0), "b takes over the lease of a's ended session");
        var took = lastRenewal.Elapsed;

        var options = schema.PartitionLeaseOptions();
        Assert.True(took >= options.SessionGrace, $"taken over after {took}, before the grace of {options.SessionGrace}");
        Assert.True(took < options.MemberTimeout, $"taken over after {took}: it waited for the member timeout of {options.MemberTimeout}");
        Assert.Equal(["m-b"], (await b.RenewAsync(Group, "m-b")).Members);
    }

    [Fact]
    public async Task TryAcquireAsync_OwnerThatStoppedRenewingButKeepsItsSession_KeepsItsLeasesUntilTheMemberTimeout()
    {
        await using var schema = database.NewSchema();
        await using var a = Store(schema);
        await using var b = Store(schema);
        var lastRenewal = Stopwatch.StartNew();
        await a.RenewAsync(Group, "m-a");
        Assert.True(await a.TryAcquireAsync(Group, "m-a", 0));
        var options = schema.PartitionLeaseOptions();

        // Past the grace, a's session (and its advisory lock) still says it lives.
        await Watchdog.Until(() => lastRenewal.Elapsed > options.SessionGrace + TimeSpan.FromMilliseconds(200), "the session grace passes");
        await b.RenewAsync(Group, "m-b");
        Assert.False(await b.TryAcquireAsync(Group, "m-b", 0));

        await Watchdog.Until(() => b.TryAcquireAsync(Group, "m-b", 0), "b takes over once a's membership times out");
        Assert.True(lastRenewal.Elapsed >= options.MemberTimeout, $"taken over after {lastRenewal.Elapsed}, before the member timeout");
    }

    [Fact]
    public async Task LeaveAsync_FreesEveryLeaseAtOnce()
    {
        await using var schema = database.NewSchema();
        await using var a = Store(schema);
        await using var b = Store(schema);
        await a.RenewAsync(Group, "m-a");
        Assert.True(await a.TryAcquireAsync(Group, "m-a", 0));
        Assert.True(await a.TryAcquireAsync(Group, "m-a", 1));

        await a.LeaveAsync(Group, "m-a");

        var view = await b.RenewAsync(Group, "m-b");
        Assert.Equal(["m-b"], view.Members);
        Assert.Empty(view.Owners);
        Assert.True(await b.TryAcquireAsync(Group, "m-b", 1));
    }

    [Fact]
    public async Task RenewAsync_GroupsOnOneTable_AreApart()
    {
        await using var schema = database.NewSchema();
        await using var a = Store(schema);
        await a.RenewAsync("one", "m-a");
        Assert.True(await a.TryAcquireAsync("one", "m-a", 0));

        var other = await a.RenewAsync("two", "m-a");

        Assert.Empty(other.Owners);
        Assert.True(await a.TryAcquireAsync("two", "m-a", 0));
    }

    [Theory]
    [InlineData("HeartbeatInterval", "00:00:00.010")]
    [InlineData("MemberTimeout", "00:00:00.100")]
    [InlineData("TablePrefix", "bad-name")]
    [InlineData("Schema", "")]
    public void Constructor_BadOption_IsRefusedNamingIt(string option, string value)
    {
        var options = new PostgreSqlPartitionLeaseOptions { ConnectionString = database.ConnectionString };
        var property = typeof(PostgreSqlPartitionLeaseOptions).GetProperty(option)!;
        property.SetValue(options, property.PropertyType == typeof(TimeSpan) ? TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : value);

        var error = Assert.Throws<ArgumentException>(() => new PostgreSqlPartitionLeaseStore(options));

        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }

    private static PostgreSqlPartitionLeaseStore Store(TestSchema schema) => new(schema.PartitionLeaseOptions());
}
