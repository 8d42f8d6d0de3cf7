using JobDedup.AspNetCore.Tests.Support;

namespace JobDedup.AspNetCore.Tests.PostgreSql;

/// <summary>The outcome store out of reach: requests are refused with 503 without running, and served again once it is back.</summary>
public sealed class StoreOutageTests
{
    [Fact]
    public async Task Post_StoreOutOfReach_Returns503WithRetryAfterAndDoesNotRun()
    {
        await using var schema = await PostgreSqlSchema.CreateAsync();
        await using var proxy = PostgreSqlFaults.ProxyFor(schema.ConnectionString);
        var throughProxy = PostgreSqlFaults.ThroughProxy(schema.ConnectionString, proxy);
        await using var app = await OrdersApp.StartAsync(engine: b => schema.Use(b, throughProxy));

        proxy.Cut();
        using var request = Http.Post("/orders", "order-1", "tea", "text/plain");
        using var response = await app.Client.SendAsync(request).Within();
        var answer = await Answer.ReadAsync(response);

        Assert.Equal(503, answer.Status);
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.Equal("1", response.Headers.RetryAfter?.ToString());
        Assert.Equal(0, app.Runs);
        Assert.Equal(1, app.App.Logs.Count(7005));
    }
}
