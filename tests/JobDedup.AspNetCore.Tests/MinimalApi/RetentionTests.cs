using JobDedup.AspNetCore.Tests.Support;

namespace JobDedup.AspNetCore.Tests.MinimalApi;

public sealed class RetentionTests
{
    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Post_ServerError_IsNotKeptSoTheRepeatRunsAgain(int status)
    {
        await using var app = await OrdersApp.StartAsync();

        var first = await app.PostAsync("order-1", body: $"status={status}");
        var repeat = await app.PostAsync("order-1", body: $"status={status}");

        Assert.Equal(status, first.Status);
        Assert.Equal(status, repeat.Status);
        Assert.False(repeat.Replayed);
        Assert.Equal(2, app.Runs);
    }

    [Theory]
    [InlineData(400, true)]
    [InlineData(404, true)]
    [InlineData(422, true)]
    [InlineData(408, false)]
    [InlineData(409, false)]
    [InlineData(425, false)]
    [InlineData(429, false)]
    public async Task Post_ClientError_IsKeptOrNotByTheDefaultClassifier(int status, bool kept)
    {
        await using var app = await OrdersApp.StartAsync();

        var first = await app.PostAsync("order-1", body: $"status={status}");
        var repeat = await app.PostAsync("order-1", body: $"status={status}");

        Assert.Equal(status, first.Status);
        Assert.Equal(status, repeat.Status);
        Assert.Equal(kept, repeat.Replayed);
        Assert.Equal(kept ? 1 : 2, app.Runs);
    }

    [Fact]
    public async Task Post_ClientErrorTheClassifierRefuses_IsNotKept()
    {
        await using var app = await OrdersApp.StartAsync(o => o.KeepClientError = _ => false);

        await app.PostAsync("order-1", body: "status=404");
        var repeat = await app.PostAsync("order-1", body: "status=404");

        Assert.False(repeat.Replayed);
        Assert.Equal(2, app.Runs);
    }

    [Fact]
    public async Task Post_ServerErrorWhileARepeatWaits_TheRepeatGetsTheSameErrorAndNothingIsKept()
    {
        var orders = new OrdersEndpoint { Gate = new Gate() };
        await using var app = await OrdersApp.StartAsync(orders: orders);

        var first = app.PostAsync("order-1", body: "status=503");
        await orders.Gate.Reached.Within();
        var waiting = app.PostAsync("order-1", body: "status=503");
        await app.CallersAsync(2);
        orders.Gate.Open();
        var one = await first.Within();
        var two = await waiting.Within();
        orders.Gate = null;
        var later = await app.PostAsync("order-1", body: "status=503");

        Assert.Equal(503, one.Status);
        Assert.Equal(503, two.Status);
        Assert.Equal(one.Body, two.Body);
        Assert.True(two.Replayed);
        Assert.False(later.Replayed);
        Assert.Equal(2, app.Runs);
    }

    [Fact]
    public async Task Post_EndpointThrows_TheFirstGets500TheWaiterA500ProblemAndTheRepeatRunsAgain()
    {
        var orders = new OrdersEndpoint { Gate = new Gate() };
        await using var app = await OrdersApp.StartAsync(orders: orders);

        var first = app.PostAsync("order-1", body: "status=599");
        await orders.Gate.Reached.Within();
        var waiting = app.PostAsync("order-1", body: "status=599");
        await app.CallersAsync(2);
        orders.Gate.Open();
        var one = await first.Within();
        var two = await waiting.Within();
        orders.Gate = null;
        var later = await app.PostAsync("order-1", body: "status=599");

        Assert.Equal(500, one.Status);
        Assert.Equal(500, two.Status);
        Assert.Equal("application/problem+json", two.ContentType);
        Assert.Equal(500, later.Status);
        Assert.Equal(2, app.Runs);
    }
}
