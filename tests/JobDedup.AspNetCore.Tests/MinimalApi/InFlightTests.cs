using JobDedup.AspNetCore.Tests.Support;

namespace JobDedup.AspNetCore.Tests.MinimalApi;

public sealed class InFlightTests
{
    [Fact]
    public async Task Post_RepeatWhileTheFirstRuns_WaitsAndGetsTheSameResponse()
    {
        var orders = new OrdersEndpoint { Gate = new Gate() };
        await using var app = await OrdersApp.StartAsync(orders: orders);

        var first = app.PostAsync("order-1");
        await orders.Gate.Reached.Within();
        var repeat = app.PostAsync("order-1");
        await app.CallersAsync(2);
        orders.Gate.Open();

        var one = await first.Within();
        var two = await repeat.Within();
        Assert.Equal(201, one.Status);
        Assert.False(one.Replayed);
        two.AssertReplayOf(one);
        Assert.Equal(1, app.Runs);
    }

    [Fact]
    public async Task Post_RepeatWhileTheFirstRunsInConflictMode_Returns409AtOnce()
    {
        var orders = new OrdersEndpoint { Gate = new Gate() };
        await using var app = await OrdersApp.StartAsync(o => o.WhenInFlight = InFlightRepeat.Conflict, orders: orders);

        var first = app.PostAsync("order-1");
        await orders.Gate.Reached.Within();
        var repeat = await app.PostAsync("order-1").Within();
        orders.Gate.Open();
        var one = await first.Within();
        var later = await app.PostAsync("order-1");

        Assert.Equal(409, repeat.Status);
        Assert.Equal("application/problem+json", repeat.ContentType);
        Assert.Equal(201, one.Status);
        Assert.True(later.Replayed);
        Assert.Equal(one.Body, later.Body);
        Assert.Equal(1, app.Runs);
    }

    [Fact]
    public async Task Post_HundredConcurrentRequestsWithOneKey_RunTheEndpointOnceAndGetIdenticalResponses()
    {
        var orders = new OrdersEndpoint { Gate = new Gate() };
        await using var app = await OrdersApp.StartAsync(orders: orders);

        var requests = Enumerable.Range(0, 100).Select(_ => app.PostAsync("order-1")).ToList();
        await orders.Gate.Reached.Within();
        await app.CallersAsync(100);
        orders.Gate.Open();
        var answers = await Task.WhenAll(requests).Within();

        Assert.Equal(1, app.Runs);
        Assert.All(answers, a => Assert.Equal(201, a.Status));
        Assert.Single(answers.Select(a => a.Body).Distinct());
        Assert.Single(answers.Select(a => a.Location).Distinct());
        Assert.Equal(99, answers.Count(a => a.Replayed));
    }

    [Fact]
    public async Task Post_FirstClientDisconnectsWhileItRuns_TheRunEndsOnceAndTheRepeatGetsItsResponse()
    {
        var orders = new OrdersEndpoint { Gate = new Gate() };
        await using var app = await OrdersApp.StartAsync(orders: orders);
        using var leave = new CancellationTokenSource();

        var first = app.PostAsync("order-1", cancellationToken: leave.Token);
        await orders.Gate.Reached.Within();
        await leave.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first).Within();
        await app.CallersAsync(0);
        var repeat = app.PostAsync("order-1");
        orders.Gate.Open();

        var answer = await repeat.Within();
        Assert.Equal(201, answer.Status);
        Assert.True(answer.Replayed);
        Assert.Contains("\"run\":1", answer.Body, StringComparison.Ordinal);
        Assert.Equal(1, app.Runs);
    }

    [Fact]
    public async Task Post_RepeatWhoseClientLeavesBeforeItsTurn_NeverRunsItsEndpoint()
    {
        var orders = new OrdersEndpoint { Gate = new Gate() };
        await using var app = await OrdersApp.StartAsync(orders: orders);
        using var leaveFirst = new CancellationTokenSource();
        using var leaveSecond = new CancellationTokenSource();

        // The first request's endpoint runs on after its client left, and its 503 will not be kept.
        var first = app.PostAsync("order-1", body: "status=503", cancellationToken: leaveFirst.Token);
        await orders.Gate.Reached.Within();
        await leaveFirst.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first).Within();
        await app.CallersAsync(0);

        // The second waits behind it for its turn, and leaves before it comes.
        var second = app.PostAsync("order-1", body: "status=503", cancellationToken: leaveSecond.Token);
        await app.CallersAsync(1);
        await leaveSecond.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second).Within();
        orders.Gate.Open();
        await Watchdog.Until(() => app.Deduplicator.GetInFlight().Count == 0, "the key's runs ended");

        var third = await app.PostAsync("order-1", body: "status=503");

        Assert.Equal(503, third.Status);
        Assert.False(third.Replayed);
        Assert.Equal(2, app.Runs);
    }
}
