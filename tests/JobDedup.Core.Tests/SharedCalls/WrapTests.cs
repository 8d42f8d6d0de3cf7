namespace JobDedup.Core.Tests.SharedCalls;

public sealed class WrapTests
{
    [Fact]
    public async Task Wrap_AutomaticKey_CoalescesEqualArgumentsOnly()
    {
        var group = new SharedCall<object, string>();
        var gate = new Gate();
        var runs = new List<(int, string)>();
        var getProduct = group.Wrap<int, string, string>(async (id, region, ct) =>
        {
            lock (runs)
            {
                runs.Add((id, region));
            }

            await gate.WaitAsync(ct);
            return $"{id}@{region}";
        });

        var calls = new[]
        {
            getProduct(1, "eu", CancellationToken.None),
            getProduct(1, "eu", CancellationToken.None),
            getProduct(2, "eu", CancellationToken.None),
            getProduct(1, "us", CancellationToken.None),
            getProduct(1, "eu", CancellationToken.None),
        };
        gate.Open();

        Assert.Equal(["1@eu", "1@eu", "2@eu", "1@us", "1@eu"], await Task.WhenAll(calls).Within());
        Assert.Equal(3, runs.Count);
        Assert.Equal(2, group.GetStats().Hits);
    }

    [Fact]
    public async Task Wrap_AutomaticKey_TwoFunctionsWithEqualArgumentsDoNotCollide()
    {
        var group = new SharedCall<object, string>();
        var gate = new Gate();
        var price = group.Wrap<int, string>(async (id, ct) =>
        {
            await gate.WaitAsync(ct);
            return $"price {id}";
        });
        var stock = group.Wrap<int, string>(async (id, ct) =>
        {
            await gate.WaitAsync(ct);
            return $"stock {id}";
        });

        var p = price(1, CancellationToken.None);
        var s = stock(1, CancellationToken.None);
        gate.Open();

        Assert.Equal("price 1", await p.Within());
        Assert.Equal("stock 1", await s.Within());
        Assert.Equal(0, group.GetStats().Hits);
    }

    [Fact]
    public async Task Wrap_KeyFunction_CoalescesByTheChosenKey()
    {
        var shared = new SharedCall<string, string>();
        var gate = new Gate();
        var runs = 0;
        var lookup = shared.Wrap<string>(
            async (email, ct) =>
            {
                Interlocked.Increment(ref runs);
                await gate.WaitAsync(ct);
                return email.ToUpperInvariant();
            },
            email => email.ToLowerInvariant());

        var a = lookup("Ann@Example.com", CancellationToken.None);
        var b = lookup("ann@example.com", CancellationToken.None);
        gate.Open();

        Assert.Equal("ANN@EXAMPLE.COM", await a.Within());
        Assert.Equal("ANN@EXAMPLE.COM", await b.Within());
        Assert.Equal(1, runs);
    }

    [Fact]
    public void Wrap_SyncFunction_CoalescesThreads()
    {
        var group = new SharedCall<object, int>();
        using var release = new ManualResetEventSlim();
        var runs = 0;
        var square = group.Wrap<int, int>(x =>
        {
            Interlocked.Increment(ref runs);
            release.Wait(Watchdog.Limit);
            return x * x;
        });

        var results = new int[4];
        var threads = Enumerable.Range(0, 4).Select(i => new Thread(() => results[i] = square(9))).ToList();
        threads.ForEach(t => t.Start());
        SpinWait.SpinUntil(() => group.GetStats().Hits == 3, Watchdog.Limit);
        release.Set();
        threads.ForEach(t => Assert.True(t.Join(Watchdog.Limit)));

        Assert.All(results, r => Assert.Equal(81, r));
        Assert.Equal(1, runs);
    }
}
