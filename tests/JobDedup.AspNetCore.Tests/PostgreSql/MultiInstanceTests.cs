using JobDedup.AspNetCore.Tests.Support;

namespace JobDedup.AspNetCore.Tests.PostgreSql;

/// <summary>Several instances of one application behind a load balancer, sharing one PostgreSQL.</summary>
public sealed class MultiInstanceTests
{
    [Fact]
    public async Task Post_RepeatSentToAnotherInstance_IsReplayedWithoutASecondRun()
    {
        await using var schema = await PostgreSqlSchema.CreateAsync();
        await using var one = await OrdersApp.StartAsync(engine: schema.Use);
        await using var two = await OrdersApp.StartAsync(engine: schema.Use);

        var first = await one.PostAsync("order-1");
        var repeat = await two.PostAsync("order-1");

        Assert.Equal(201, first.Status);
        repeat.AssertReplayOf(first);
        Assert.Equal(1, one.Runs);
        Assert.Equal(0, two.Runs);
        Assert.Equal(1, await schema.CountAsync());
    }

    [Fact]
    public async Task Post_RepeatSentToAnotherInstanceWhileTheFirstRuns_WaitsForItAndGetsTheSameResponse()
    {
        await using var schema = await PostgreSqlSchema.CreateAsync();
        var held = new OrdersEndpoint { Gate = new Gate() };
        await using var one = await OrdersApp.StartAsync(engine: schema.Use, orders: held);
        await using var two = await OrdersApp.StartAsync(engine: schema.Use);

        var first = one.PostAsync("order-1");
        await held.Gate.Reached.Within();
        var repeat = two.PostAsync("order-1");
        await two.CallersAsync(1);
        held.Gate.Open();

        (await repeat.Within()).AssertReplayOf(await first.Within());
        Assert.Equal(1, one.Runs);
        Assert.Equal(0, two.Runs);
    }

    [Fact]
    public async Task Post_RepeatSentToAnotherInstanceWhileTheFirstRunsInConflictMode_Returns409()
    {
        await using var schema = await PostgreSqlSchema.CreateAsync();
        var held = new OrdersEndpoint { Gate = new Gate() };
        await using var one = await OrdersApp.StartAsync(o => o.WhenInFlight = InFlightRepeat.Conflict, engine: schema.Use, orders: held);
        await using var two = await OrdersApp.StartAsync(o => o.WhenInFlight = InFlightRepeat.Conflict, engine: schema.Use);

        var first = one.PostAsync("order-1");
        await held.Gate.Reached.Within();
        var repeat = await two.PostAsync("order-1").Within();
        held.Gate.Open();
        await first.Within();

        Assert.Equal(409, repeat.Status);
        Assert.Equal(0, two.Runs);
        (await two.PostAsync("order-1")).AssertReplayOf(await first);
    }

    [Fact]
    public async Task Post_RepeatAfterARestart_IsReplayedFromPostgreSql()
    {
        await using var schema = await PostgreSqlSchema.CreateAsync();
        Answer first;
        await using (var before = await OrdersApp.StartAsync(engine: schema.Use))
        {
            first = await before.PostAsync("order-1");
        }

        await using var after = await OrdersApp.StartAsync(engine: schema.Use);
        var repeat = await after.PostAsync("order-1");

        Assert.Equal(201, first.Status);
        repeat.AssertReplayOf(first);
        Assert.Equal(0, after.Runs);
    }

    [Fact]
    public async Task Post_ServerErrorOnOneInstance_IsNotKeptSoTheOtherRunsTheRepeat()
    {
        await using var schema = await PostgreSqlSchema.CreateAsync();
        await using var one = await OrdersApp.StartAsync(engine: schema.Use);
        await using var two = await OrdersApp.StartAsync(engine: schema.Use);

        var first = await one.PostAsync("order-1", body: "status=503");
        var repeat = await two.PostAsync("order-1", body: "status=503");

        Assert.Equal(503, first.Status);
        Assert.False(repeat.Replayed);
        Assert.Equal(1, two.Runs);
    }
}
