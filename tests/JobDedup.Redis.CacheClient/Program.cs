// Usage: JobDedup.Redis.CacheClient <mode> <redis configuration> <namespace> <key> [mode arguments]
//   crowd <callers> <factory ms> <counter key>  prints "ready", waits for "go" on stdin, then <callers> concurrent
//                                              GetOrSetAsync calls on a cold key; each factory run INCRs <counter key>
//                                              in Redis; prints "done <distinct values> <factory runs here>" and exits
//   hold <lock timeout ms>                      takes the rebuild lock with a factory that never returns, prints
//                                              "rebuilding", and waits to be killed
//   watch                                       a cache with an in-memory level of 10 minutes; on each "read" line
//                                              prints "value <value> <source>"; exits at end of input
using System.Diagnostics;
using System.Globalization;
using JobDedup;
using StackExchange.Redis;

if (args.Length < 4)
{
    Console.Error.WriteLine("usage: JobDedup.Redis.CacheClient crowd|hold|watch <redis configuration> <namespace> <key> [arguments]");
    return 2;
}

var (mode, configuration, ns, key) = (args[0], args[1], args[2], args[3]);
var options = new SharedCacheOptions { Configuration = configuration, Namespace = ns };
if (mode == "watch")
{
    options.MemoryLevelDuration = TimeSpan.FromMinutes(10);
}

await using var cache = new SharedCache(options);
var ownPid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
switch (mode)
{
    case "crowd":
    {
        var callers = int.Parse(args[4], CultureInfo.InvariantCulture);
        var factoryTime = TimeSpan.FromMilliseconds(int.Parse(args[5], CultureInfo.InvariantCulture));
        using var counters = await ConnectionMultiplexer.ConnectAsync(configuration);
        var counter = counters.GetDatabase();
        var entry = new CacheEntryOptions { TimeToLive = TimeSpan.FromMinutes(5), WaitForLock = TimeSpan.FromSeconds(30), LockTimeout = TimeSpan.FromSeconds(30) };

        // Connected and subscribed before the crowd starts: the first call of a warm-up key does both.
        await cache.GetOrSetAsync(key + ":warm-up:" + ownPid, () => "warm", entry);
        Console.WriteLine("ready");
        if (Console.ReadLine() != "go")
        {
            return 1;
        }

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, callers).Select(async _ =>
        {
            await start.Task;
            return await cache.GetOrSetAsync(
                key,
                (counter, args[6], factoryTime, ownPid),
                static async (s, token) =>
                {
                    await s.counter.StringIncrementAsync(s.Item2);
                    await Task.Delay(s.factoryTime, token);
                    return "value from " + s.ownPid;
                },
                entry);
        }).ToArray();
        start.SetResult();
        var results = await Task.WhenAll(calls);
        // The warm-up key ran the factory once too.
        var runs = cache.GetStats().FactoryRuns - 1;
        Console.WriteLine($"done {string.Join('|', results.Select(r => r.Value).Distinct())} {runs}");
        return 0;
    }

    case "hold":
    {
        var lockTimeout = TimeSpan.FromMilliseconds(int.Parse(args[4], CultureInfo.InvariantCulture));
        await cache.GetOrSetAsync<string>(
            key,
            async token =>
            {
                Console.WriteLine("rebuilding");
                await Task.Delay(Timeout.Infinite, CancellationToken.None);
                return "never";
            },
            new CacheEntryOptions { LockTimeout = lockTimeout });
        return 1;
    }

    case "watch":
    {
        while (Console.ReadLine() is { } line)
        {
            if (line == "read")
            {
                var result = await cache.GetOrSetAsync(key, () => "computed by the watcher");
                Console.WriteLine($"value {result.Value} {result.Source}");
            }
        }

        return 0;
    }

    default:
        Console.Error.WriteLine($"unknown mode {mode}");
        Debug.Fail("unknown mode");
        return 2;
}
