using JobDedup.AspNetCore.Tests.Support;

namespace JobDedup.AspNetCore.Tests.MinimalApi;

public sealed class KeyTests
{
    [Fact]
    public async Task Post_WithoutKeyWhenKeyRequired_Returns400ProblemAndDoesNotRun()
    {
        await using var app = await OrdersApp.StartAsync(o => o.RequireKey = true);

        var answer = await app.PostAsync(key: null);

        Assert.Equal(400, answer.Status);
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.Contains("Idempotency-Key", answer.Body, StringComparison.Ordinal);
        Assert.Equal(0, app.Runs);
    }

    [Fact]
    public async Task Post_WithoutKeyWhenKeyOptional_RunsEveryRequest()
    {
        await using var app = await OrdersApp.StartAsync();

        var first = await app.PostAsync(key: null);
        var second = await app.PostAsync(key: null);

        Assert.Equal(201, first.Status);
        Assert.Equal(201, second.Status);
        Assert.False(second.Replayed);
        Assert.Equal(2, app.Runs);
    }

    [Fact]
    public async Task Post_KeyLongerThanTheEngineAccepts_Returns400NamingTheHeader()
    {
        await using var app = await OrdersApp.StartAsync();

        var answer = await app.PostAsync(new string('k', 2000));

        Assert.Equal(400, answer.Status);
        Assert.Contains("Idempotency-Key header", answer.Body, StringComparison.Ordinal);
        Assert.Equal(0, app.Runs);
    }

    [Fact]
    public async Task Post_KeyAsAQuotedStructuredFieldString_IsTheSameKeyAsTheBareOne()
    {
        await using var app = await OrdersApp.StartAsync();

        var bare = await app.PostAsync("8e03978e-40d5-43e8-bc93-6894a57f9324");
        var quoted = await app.PostAsync("\"8e03978e-40d5-43e8-bc93-6894a57f9324\"");

        Assert.Equal(201, bare.Status);
        Assert.True(quoted.Replayed);
        Assert.Equal(1, app.Runs);
    }

    [Fact]
    public async Task Post_KeyFromTheKeySelector_IsUsedInsteadOfTheHeader()
    {
        await using var app = await OrdersApp.StartAsync(o => o.KeySelector = c => c.Request.Headers["X-Event-Id"]);
        using var first = Http.Post("/orders", key: "ignored-1", "tea", "text/plain");
        first.Headers.Add("X-Event-Id", "evt-1");
        using var second = Http.Post("/orders", key: "ignored-2", "tea", "text/plain");
        second.Headers.Add("X-Event-Id", "evt-1");

        using var one = await app.Client.SendAsync(first);
        var two = await Answer.ReadAsync(await app.Client.SendAsync(second));

        Assert.Equal(201, (int)one.StatusCode);
        Assert.True(two.Replayed);
        Assert.Equal(1, app.Runs);
    }

    [Fact]
    public async Task Post_SameKeyFromTwoScopes_RunsOncePerScope()
    {
        await using var app = await OrdersApp.StartAsync(o => o.Scope = c => c.Request.Headers["X-User"].ToString());

        async Task<Answer> SendAs(string user)
        {
            using var request = Http.Post("/orders", "shared-key", "tea", "text/plain");
            request.Headers.Add("X-User", user);
            using var response = await app.Client.SendAsync(request);
            return await Answer.ReadAsync(response);
        }

        var alice = await SendAs("alice");
        var bob = await SendAs("bob");
        var aliceAgain = await SendAs("alice");

        Assert.False(bob.Replayed);
        Assert.NotEqual(alice.Body, bob.Body);
        Assert.True(aliceAgain.Replayed);
        Assert.Equal(alice.Body, aliceAgain.Body);
        Assert.Equal(2, app.Runs);
    }
}
