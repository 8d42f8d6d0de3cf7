using System.Text.Json;
using JobDedup.AspNetCore.Tests.Support;

namespace JobDedup.AspNetCore.Tests.MinimalApi;

public sealed class MismatchTests
{
    [Fact]
    public async Task Post_SameKeyDifferentJsonBody_Returns422NamingTheMembersThatDiffer()
    {
        await using var app = await OrdersApp.StartAsync();

        var first = await app.PostAsync("order-1", """{"item":"tea","quantity":1,"note":"x"}""", "application/json");
        var changed = await app.PostAsync("order-1", """{"item":"tea","quantity":2,"gift":true}""", "application/json");

        Assert.Equal(201, first.Status);
        Assert.Equal(422, changed.Status);
        Assert.Equal("application/problem+json", changed.ContentType);
        using var problem = JsonDocument.Parse(changed.Body);
        Assert.Equal(["gift", "note", "quantity"], problem.RootElement.GetProperty("members").EnumerateArray().Select(m => m.GetString()!));
        Assert.Equal(1, app.Runs);
    }

    [Fact]
    public async Task Post_SameKeySameJsonWrittenDifferently_IsReplayed()
    {
        await using var app = await OrdersApp.StartAsync();

        var first = await app.PostAsync("order-1", """{"item":"tea","quantity":1}""", "application/json");
        var repeat = await app.PostAsync("order-1", """{ "quantity": 1, "item": "tea" }""", "application/json");

        Assert.True(repeat.Replayed);
        Assert.Equal(first.Body, repeat.Body);
        Assert.Equal(1, app.Runs);
    }

    [Fact]
    public async Task Post_SameKeyDifferentBodyWhileTheFirstRuns_Returns422WithoutWaiting()
    {
        var orders = new OrdersEndpoint { Gate = new Gate() };
        await using var app = await OrdersApp.StartAsync(orders: orders);

        var first = app.PostAsync("order-1", "tea");
        await orders.Gate.Reached.Within();
        var changed = await app.PostAsync("order-1", "coffee").Within();
        orders.Gate.Open();
        await first.Within();

        Assert.Equal(422, changed.Status);
        Assert.Equal(1, app.Runs);
    }

    [Fact]
    public async Task Post_SameKeyOnAnotherPath_Returns422NamingTheFirstRequest()
    {
        await using var app = await OrdersApp.StartAsync();

        await app.PostAsync("order-1");
        var other = await app.Client.SendAsync("/orders?copy=1", "order-1", "tea", "text/plain");

        Assert.Equal(422, other.Status);
        Assert.Contains("POST /orders", other.Body, StringComparison.Ordinal);
    }
}
