using JobDedup.AspNetCore.Execution;
using JobDedup.AspNetCore.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace JobDedup.AspNetCore.Tests.MinimalApi;

public sealed class RegistrationTests
{
    [Fact]
    public async Task Group_WithIdempotency_MakesEveryEndpointOfTheGroupIdempotent()
    {
        var orders = new OrdersEndpoint();
        await using var app = await TestApp.StartAsync(
            s => s.AddIdempotency(),
            a =>
            {
                var group = a.MapGroup("/v1").WithIdempotency();
                group.MapPost("/orders", (HttpRequest r) => orders.HandleAsync(r));
                group.MapPut("/orders/{id}", (HttpRequest r) => orders.HandleAsync(r));
            });

        await app.Client.SendAsync("/v1/orders", "k1", "tea", "text/plain");
        var repeat = await app.Client.SendAsync("/v1/orders", "k1", "tea", "text/plain");
        using var put = new HttpRequestMessage(HttpMethod.Put, "/v1/orders/7") { Content = new StringContent("tea") };
        put.Headers.Add("Idempotency-Key", "k2");
        using var first = await app.Client.SendAsync(put);
        using var again = new HttpRequestMessage(HttpMethod.Put, "/v1/orders/7") { Content = new StringContent("tea") };
        again.Headers.Add("Idempotency-Key", "k2");
        var second = await Answer.ReadAsync(await app.Client.SendAsync(again));

        Assert.True(repeat.Replayed);
        Assert.True(second.Replayed);
        Assert.Equal(2, orders.Runs);
    }

    [Fact]
    public async Task NamedOptionSet_HasItsOwnSettingsAndKeys()
    {
        var orders = new OrdersEndpoint();
        await using var app = await TestApp.StartAsync(
            s =>
            {
                s.AddIdempotency();
                s.AddIdempotency("webhooks", o => o.KeyHeader = "X-Event-Id");
            },
            a =>
            {
                a.MapPost("/orders", (HttpRequest r) => orders.HandleAsync(r)).WithIdempotency();
                a.MapPost("/hooks", (HttpRequest r) => orders.HandleAsync(r)).WithIdempotency("webhooks");
            });

        async Task<Answer> HookAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks") { Content = new StringContent("evt") };
            request.Headers.Add("X-Event-Id", "evt-1");
            return await Answer.ReadAsync(await app.Client.SendAsync(request));
        }

        await HookAsync();
        var repeat = await HookAsync();

        Assert.True(repeat.Replayed);
        Assert.Equal(1, orders.Runs);
        Assert.NotNull(app.App.Services.GetKeyedService<JobDeduplicator<IdempotentRequest, IdempotentResponse>>("idempotency-webhooks"));
    }

    [Fact]
    public async Task Endpoint_OptionsRefinedPerEndpoint_ApplyToThatEndpointOnly()
    {
        var orders = new OrdersEndpoint();
        await using var app = await TestApp.StartAsync(
            s => s.AddIdempotency(),
            a =>
            {
                a.MapPost("/strict", (HttpRequest r) => orders.HandleAsync(r)).WithIdempotency(o => o.RequireKey = true);
                a.MapPost("/lenient", (HttpRequest r) => orders.HandleAsync(r)).WithIdempotency();
            });

        var strict = await app.Client.SendAsync("/strict", null, "tea", "text/plain");
        var lenient = await app.Client.SendAsync("/lenient", null, "tea", "text/plain");

        Assert.Equal(400, strict.Status);
        Assert.Equal(201, lenient.Status);
    }

    [Fact]
    public async Task Endpoint_WithoutAddIdempotency_FailsItsRequestsLoggingWhatToAdd()
    {
        await using var app = await TestApp.StartAsync(
            _ => { },
            a => a.MapPost("/orders", () => "x").WithIdempotency());

        var answer = await app.Client.SendAsync("/orders", "k", "tea", "text/plain");

        Assert.Equal(500, answer.Status);
        var error = Assert.Throws<InvalidOperationException>(() => IdempotencyPolicy.Resolve(new ServiceCollection().BuildServiceProvider(), string.Empty));
        Assert.Contains("AddIdempotency", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Endpoint_ChangingTheDedupeWindow_FailsNamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            TestApp.StartAsync(
                s => s.AddIdempotency(),
                a => a.MapPost("/orders", () => "x").WithIdempotency(o => o.DedupeWindow = TimeSpan.FromMinutes(1))));

        Assert.Contains("DedupeWindow", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Endpoint_IdempotentOnItsGroupAndItself_FailsAtStart()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            TestApp.StartAsync(
                s => s.AddIdempotency(),
                a => a.MapGroup("/v1").WithIdempotency().MapPost("/orders", () => "x").WithIdempotency()));

        Assert.Contains("applied twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddIdempotency_InvalidOptions_FailsAtStartNamingTheSetting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() =>
            TestApp.StartAsync(s => s.AddIdempotency(o => o.DedupeWindow = TimeSpan.Zero), _ => { }));

        Assert.Contains("DedupeWindow", error.Message, StringComparison.Ordinal);
    }
}
