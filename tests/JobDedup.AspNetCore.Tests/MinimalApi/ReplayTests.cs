using JobDedup.AspNetCore.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace JobDedup.AspNetCore.Tests.MinimalApi;

public sealed class ReplayTests
{
    [Fact]
    public async Task Post_RepeatedKey_ReplaysTheFirstStatusBodyAndHeaders()
    {
        await using var app = await OrdersApp.StartAsync();

        var first = await app.PostAsync("order-1");
        var repeat = await app.PostAsync("order-1");

        Assert.Equal(201, first.Status);
        Assert.False(first.Replayed);
        Assert.Equal("/orders/1", first.Location);
        repeat.AssertReplayOf(first);
        Assert.Equal(1, app.Runs);
    }

    [Fact]
    public async Task Post_TwoKeys_RunOnceEach()
    {
        await using var app = await OrdersApp.StartAsync();

        var one = await app.PostAsync("order-1");
        var two = await app.PostAsync("order-2");

        Assert.NotEqual(one.Body, two.Body);
        Assert.False(two.Replayed);
        Assert.Equal(2, app.Runs);
    }

    [Fact]
    public async Task Post_RepeatAfterTheDedupeWindow_RunsAgain()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var app = await OrdersApp.StartAsync(
            o => o.DedupeWindow = TimeSpan.FromHours(1),
            s => s.AddSingleton<TimeProvider>(time));

        var first = await app.PostAsync("order-1");
        time.Advance(TimeSpan.FromMinutes(59));
        var within = await app.PostAsync("order-1");
        time.Advance(TimeSpan.FromMinutes(2));
        var after = await app.PostAsync("order-1");

        Assert.True(within.Replayed);
        Assert.Equal(first.Body, within.Body);
        Assert.False(after.Replayed);
        Assert.NotEqual(first.Body, after.Body);
        Assert.Equal(2, app.Runs);
    }

    [Fact]
    public async Task Post_ResponseLargerThanMaxBodyBytes_IsAnsweredButNotKeptAndLogged()
    {
        await using var app = await OrdersApp.StartAsync(o => o.MaxBodyBytes = 16);

        var first = await app.PostAsync("order-1", body: new string('t', 100));
        var repeat = await app.PostAsync("order-1", body: new string('t', 100));

        Assert.Equal(201, first.Status);
        Assert.Contains(new string('t', 100), first.Body, StringComparison.Ordinal);
        Assert.False(repeat.Replayed);
        Assert.Equal(2, app.Runs);
        Assert.Equal(2, app.App.Logs.Count(7001));
    }

    [Fact]
    public async Task Post_ResponseLargerThanMaxBodyBytes_StillReachesTheRepeatsThatWaitedForIt()
    {
        var orders = new OrdersEndpoint { Gate = new Gate() };
        await using var app = await OrdersApp.StartAsync(o => o.MaxBodyBytes = 16, orders: orders);
        var large = new string('t', 100);

        var first = app.PostAsync("order-1", body: large);
        await orders.Gate.Reached.Within();
        var waiting = app.PostAsync("order-1", body: large);
        await app.CallersAsync(2);
        orders.Gate.Open();
        var one = await first.Within();
        var two = await waiting.Within();
        orders.Gate = null;
        var later = await app.PostAsync("order-1", body: large);

        two.AssertReplayOf(one);
        Assert.Contains(large, two.Body, StringComparison.Ordinal);
        Assert.False(later.Replayed);
        Assert.Equal(2, app.Runs);
    }
}
