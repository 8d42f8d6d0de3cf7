using System.Net;
using PaymentsApi.Tests.Support;

namespace PaymentsApi.Tests;

/// <summary>POST /payments on real Kestrel at 127.0.0.1, as a client that retries sees it.</summary>
public sealed class PaymentTests
{
    private const string Client = "shop-1";

    [Fact]
    public async Task PostPayment_RetriedWithTheSameKey_ChargesOnceAndReplaysTheFirstAnswer()
    {
        var gateway = new CountingGateway();
        await using var api = await ApiHost.StartAsync(gateway);
        var key = NewKey();

        var first = await api.PostAsync(Client, key, ApiHost.Body(4_999));
        var retry = await api.PostAsync(Client, key, ApiHost.Body(4_999));

        Assert.True(first.Status == HttpStatusCode.Created, first.Body);
        Assert.False(first.Replayed);
        Assert.Equal(HttpStatusCode.Created, retry.Status);
        Assert.True(retry.Replayed);
        Assert.Equal(first.Payment, retry.Payment);
        Assert.Equal(first.Location, retry.Location);
        Assert.Equal(1, gateway.Charges);
        Assert.Equal(first.Payment, Assert.Single(gateway.List()));
        Assert.Equal(first.Payment, await api.GetAsync(Client, first.Location!));
    }

    [Fact]
    public async Task PostPayment_SameKeyWithAnotherBody_Gets422AndChargesNothingMore()
    {
        var gateway = new CountingGateway();
        await using var api = await ApiHost.StartAsync(gateway);
        var key = NewKey();

        var first = await api.PostAsync(Client, key, ApiHost.Body(4_999));
        var changed = await api.PostAsync(Client, key, ApiHost.Body(5_999));
        var original = await api.PostAsync(Client, key, ApiHost.Body(4_999));

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.True(changed.Status == HttpStatusCode.UnprocessableEntity, $"{changed.Status}: {changed.Body}");
        Assert.Null(changed.Payment);

        // The refused request changed nothing: the key still answers with the first payment.
        Assert.True(original.Replayed);
        Assert.Equal(first.Payment, original.Payment);
        Assert.Equal(1, gateway.Charges);
        Assert.Equal(4_999, Assert.Single(gateway.List()).Amount);
    }

    [Fact]
    public async Task PostPayment_RetriedWhileTheFirstRuns_WaitsForItAndGetsTheSameAnswer()
    {
        const int Retries = 10;
        var gate = new Gate();
        var gateway = new CountingGateway(gate);
        await using var api = await ApiHost.StartAsync(gateway);
        var key = NewKey();

        var first = api.PostAsync(Client, key, ApiHost.Body(4_999));
        await gate.Reached.Within();
        var retries = Enumerable.Range(0, Retries).Select(_ => api.PostAsync(Client, key, ApiHost.Body(4_999))).ToArray();

        try
        {
            // Every retry reached the filter and waits for the first request's run, which is still held at the gateway.
            await Watchdog.Until(() => api.Idempotency.GetStats() is { Misses: 1, Hits: Retries }, "every retry joined the first request");
            Assert.False(first.IsCompleted);
            Assert.All(retries, r => Assert.False(r.IsCompleted));
            Assert.Equal(1, gate.Arrivals);
        }
        finally
        {
            // Also when an assertion fails, so that the held request ends and the app can stop.
            gate.Open();
        }

        var answer = await first.Within();
        var retried = await Task.WhenAll(retries).Within();
        Assert.True(answer.Status == HttpStatusCode.Created, answer.Body);
        Assert.False(answer.Replayed);
        Assert.All(retried, r =>
        {
            Assert.Equal(HttpStatusCode.Created, r.Status);
            Assert.True(r.Replayed);
            Assert.Equal(answer.Payment, r.Payment);
            Assert.Equal(answer.Location, r.Location);
        });
        Assert.Equal(1, gateway.Charges);
        Assert.Single(gateway.List());
    }

    [Fact]
    public async Task PostPayment_WithoutAKey_Gets400AndChargesNothing()
    {
        var gateway = new CountingGateway();
        await using var api = await ApiHost.StartAsync(gateway);

        var answer = await api.PostAsync(Client, key: null, ApiHost.Body(4_999));

        Assert.True(answer.Status == HttpStatusCode.BadRequest, $"{answer.Status}: {answer.Body}");
        Assert.Contains("Idempotency-Key", answer.Body, StringComparison.Ordinal);
        Assert.Equal(0, gateway.Charges);
    }

    [Fact]
    public async Task PostPayment_SameKeyFromAnotherClient_IsAnotherPayment()
    {
        var gateway = new CountingGateway();
        await using var api = await ApiHost.StartAsync(gateway);
        var key = NewKey();

        var mine = await api.PostAsync(Client, key, ApiHost.Body(4_999));
        var theirs = await api.PostAsync("shop-2", key, ApiHost.Body(4_999));

        Assert.Equal(HttpStatusCode.Created, mine.Status);
        Assert.Equal(HttpStatusCode.Created, theirs.Status);
        Assert.False(theirs.Replayed);
        Assert.NotEqual(mine.Payment!.Id, theirs.Payment!.Id);
        Assert.Equal("shop-2", theirs.Payment.Client);
        Assert.Equal(2, gateway.Charges);

        // A client cannot read another's payment either.
        Assert.Null(await api.GetAsync("shop-2", mine.Location!));
    }

    [Fact]
    public async Task PostPayment_WithoutAClientOrWithAnInvalidBody_IsRefusedAndTheKeyStaysFree()
    {
        var gateway = new CountingGateway();
        await using var api = await ApiHost.StartAsync(gateway);
        var key = NewKey();

        var anonymous = await api.PostAsync(client: null, key, ApiHost.Body(4_999));
        var invalid = await api.PostAsync("shop-3", NewKey(), ApiHost.Body(-1, currency: "euro"));
        var real = await api.PostAsync(Client, key, ApiHost.Body(4_999));

        Assert.True(anonymous.Status == HttpStatusCode.Unauthorized, $"{anonymous.Status}: {anonymous.Body}");
        Assert.True(invalid.Status == HttpStatusCode.BadRequest, $"{invalid.Status}: {invalid.Body}");
        Assert.Contains("amount", invalid.Body, StringComparison.Ordinal);
        Assert.Contains("currency", invalid.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, real.Status);
        Assert.False(real.Replayed);
        Assert.Equal(1, gateway.Charges);
    }

    private static string NewKey() => $"key-{Guid.NewGuid():N}";
}
