using JobDedup.AspNetCore.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace JobDedup.AspNetCore.Tests.Controllers;

public sealed class IdempotentAttributeTests
{
    private static Task<TestApp> StartAsync(PaymentRuns runs) =>
        TestApp.StartAsync(
            s =>
            {
                s.AddIdempotency();
                s.AddIdempotency("urgent", o => o.KeyHeader = "X-Urgent-Key");
                s.AddSingleton(runs);
                s.AddControllers().AddApplicationPart(typeof(PaymentsController).Assembly);
            },
            a => a.MapControllers());

    [Fact]
    public async Task Action_RepeatedKey_RunsOnceAndReplaysTheResponse()
    {
        var runs = new PaymentRuns();
        await using var app = await StartAsync(runs);

        var first = await app.Client.SendAsync("/payments", "pay-1", """{"amount":12.5}""");
        var repeat = await app.Client.SendAsync("/payments", "pay-1", """{"amount":12.5}""");

        Assert.Equal(201, first.Status);
        Assert.Equal("/payments/1", first.Location);
        repeat.AssertReplayOf(first);
        Assert.Equal(1, runs.Count);
    }

    [Fact]
    public async Task Action_BodyIsStillBoundAfterItWasFingerprinted()
    {
        var runs = new PaymentRuns();
        await using var app = await StartAsync(runs);

        var answer = await app.Client.SendAsync("/payments", "pay-1", """{"amount":12.5}""");

        Assert.Contains("12.5", answer.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Action_Throws_ReachesThePipelineAndIsNotKept()
    {
        var runs = new PaymentRuns();
        await using var app = await StartAsync(runs);

        var first = await app.Client.SendAsync("/payments/fail", "pay-1", "x", "text/plain");
        var repeat = await app.Client.SendAsync("/payments/fail", "pay-1", "x", "text/plain");

        Assert.Equal(500, first.Status);
        Assert.Equal(500, repeat.Status);
        Assert.Equal(2, runs.Count);
    }

    [Fact]
    public async Task Action_WithoutTheAttribute_RunsEveryTime()
    {
        var runs = new PaymentRuns();
        await using var app = await StartAsync(runs);

        await app.Client.SendAsync("/payments/plain", "pay-1", "{}");
        var repeat = await app.Client.SendAsync("/payments/plain", "pay-1", "{}");

        Assert.False(repeat.Replayed);
        Assert.Equal(2, runs.Count);
    }

    [Fact]
    public async Task Controller_AttributeOnTheControllerAndTheAction_TheActionsOwnAppliesOnce()
    {
        var runs = new PaymentRuns();
        await using var app = await StartAsync(runs);

        async Task<Answer> UrgentAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/refunds/urgent") { Content = new StringContent("x") };
            request.Headers.Add("X-Urgent-Key", "r-1");
            return await Answer.ReadAsync(await app.Client.SendAsync(request));
        }

        var first = await UrgentAsync().Within();
        var repeat = await UrgentAsync().Within();
        var byController = await app.Client.SendAsync("/refunds", "r-2", "x", "text/plain");
        var byControllerAgain = await app.Client.SendAsync("/refunds", "r-2", "x", "text/plain");

        Assert.Equal(200, first.Status);
        Assert.True(repeat.Replayed);
        Assert.True(byControllerAgain.Replayed);
        Assert.Equal(byController.Body, byControllerAgain.Body);
        Assert.Equal(2, runs.Count);
    }
}
