using System.Diagnostics;
using StackExchange.Redis;

namespace JobDedup.CacheBench.Scenarios;

/// <summary>Several processes (this tool run as children) on one Redis, each with concurrent requests on one cold key.</summary>
internal static class FourProcesses
{
    public static async Task<ProcessesResult> RunAsync(string contender, string redis, int processes, int callersEach, TimeSpan query)
    {
        var ns = Names.NewNamespace();
        var counter = ns + ":database-hits";
        var children = new List<Process>();
        try
        {
            for (var i = 0; i < processes; i++)
            {
                var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
                foreach (var argument in new[] { typeof(FourProcesses).Assembly.Location, "child", contender, redis, ns, callersEach.ToString(), ((int)query.TotalMilliseconds).ToString(), counter })
                {
                    start.ArgumentList.Add(argument);
                }

                children.Add(Process.Start(start)!);
            }

            foreach (var child in children)
            {
                await Expect(child, "ready");
            }

            var clock = Stopwatch.StartNew();
            foreach (var child in children)
            {
                await child.StandardInput.WriteLineAsync("go");
                await child.StandardInput.FlushAsync();
            }

            foreach (var child in children)
            {
                await Expect(child, "done");
            }

            var took = clock.Elapsed;
            await using var connection = await ConnectionMultiplexer.ConnectAsync(redis);
            var hits = (long)await connection.GetDatabase().StringGetAsync(counter);
            return new ProcessesResult(contender, processes, callersEach, hits, took);
        }
        finally
        {
            foreach (var child in children)
            {
                if (!child.HasExited)
                {
                    child.Kill(entireProcessTree: true);
                }

                child.Dispose();
            }
        }
    }

    /// <summary>The child's side: connect, say ready, wait for go, run the crowd, say done.</summary>
    public static async Task<int> ChildAsync(string[] args)
    {
        var (contender, redis, ns, callers, queryMs, counter) = (args[1], args[2], args[3], int.Parse(args[4]), int.Parse(args[5]), args[6]);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis);
        var database = new SlowQuery(TimeSpan.FromMilliseconds(queryMs), connection.GetDatabase(), counter);
        await using var cache = Contenders.Contenders.Create(contender, redis, ns);
        await cache.GetAsync("warm-up-" + Environment.ProcessId, _ => ValueTask.FromResult("warm"), TimeSpan.FromMinutes(5));
        Console.WriteLine("ready");
        if (Console.ReadLine() != "go")
        {
            return 1;
        }

        var calls = Enumerable.Range(0, callers).Select(_ => cache.GetAsync("product:42", database.RunAsync, TimeSpan.FromMinutes(5)).AsTask()).ToArray();
        await Task.WhenAll(calls).WaitAsync(TimeSpan.FromMinutes(1));
        Console.WriteLine("done");
        return 0;
    }

    private static async Task Expect(Process child, string line)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (await child.StandardOutput.ReadLineAsync(timeout.Token) is { } read)
        {
            if (read == line)
            {
                return;
            }
        }

        throw new InvalidOperationException($"a child process ended before '{line}'");
    }
}

internal sealed record ProcessesResult(string Contender, int Processes, int CallersEach, long DatabaseHits, TimeSpan Took);
