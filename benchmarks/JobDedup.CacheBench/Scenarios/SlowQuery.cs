using StackExchange.Redis;

namespace JobDedup.CacheBench.Scenarios;

/// <summary>The "database": a query that takes a fixed time and counts its hits (in this process, and in Redis across processes).</summary>
internal sealed class SlowQuery(TimeSpan duration, IDatabase? counters = null, string? counterKey = null)
{
    private readonly Lock _runsLock = new();
    private readonly List<DateTimeOffset> _runs = [];
    private int _hits;

    public int Hits => Volatile.Read(ref _hits);

    public IReadOnlyList<DateTimeOffset> Runs
    {
        get
        {
            lock (_runsLock)
            {
                return [.. _runs];
            }
        }
    }

    public async ValueTask<string> RunAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _hits);
        lock (_runsLock)
        {
            _runs.Add(DateTimeOffset.UtcNow);
        }

        if (counters is not null)
        {
            await counters.StringIncrementAsync(counterKey);
        }

        await Task.Delay(duration, cancellationToken);
        return "product 42 at " + DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    }
}
