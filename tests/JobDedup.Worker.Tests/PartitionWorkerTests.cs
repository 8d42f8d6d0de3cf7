using System.Diagnostics;
using System.Text;
using JobDedup.Worker.Tests.Support;
using Xunit.Abstractions;

namespace JobDedup.Worker.Tests;

/// <summary>Worker processes on a partitioned pipeline with partition leases in PostgreSQL; one is killed with SIGKILL.</summary>
[Collection(BrokerCollection.Name)]
public sealed class PartitionWorkerTests(Broker broker, ITestOutputHelper output)
{
    private const int Partitions = 4;
    private const int PerPartition = 100;

    [Fact]
    public async Task ThreeWorkers_EachConsumeTheirShareAndOneKilledHandsItsPartitionsToTheOthersWithinSeconds()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "worker-leases");
        queue.UsesPartitions(Partitions);
        await using var leases = await PartitionLeaseSchema.CreateAsync();
        await using var sink = await HttpSink.StartAsync();
        sink.Respond = async (key, _, ct) =>
        {
            await Task.Delay(20, ct); // work that takes time, so that the kill lands mid-burst
            return (200, $"handled {key}");
        };

        var started = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, 3).Select(i => WorkerProcess.Start(Settings(queue, sink, leases, $"w{i}"))).ToList();
        try
        {
            // A process takes seconds to boot on a busy machine: the clock that matters starts once each one runs its consumer.
            await Task.WhenAll(workers.Select(worker => worker.Consuming)).Within();
            var allUp = Stopwatch.StartNew();
            var upAfter = started.Elapsed;
            await Watchdog.Until(() => IsBalanced(workers), "three workers each consuming its share of the partitions");
            var balancedAfter = allUp.Elapsed;
            output.WriteLine($"three workers up {upAfter.TotalSeconds:F1} s after launch; balanced {balancedAfter.TotalSeconds:F1} s after the last was up ({started.Elapsed.TotalSeconds:F1} s after launch)");
            Assert.True(balancedAfter < TimeSpan.FromSeconds(10), $"balanced {balancedAfter} after the last worker was up");

            for (var n = 0; n < PerPartition; n++)
            {
                for (var p = 0; p < Partitions; p++)
                {
                    var key = $"p{p}-k{n}";
                    await queue.PublishToAsync($"{queue.Name}.partition.{p}", key, Encoding.UTF8.GetBytes($"{{\"id\":\"{key}\"}}"));
                }
            }

            await Watchdog.Until(() => sink.Requests.Count >= 60, "the burst is under way");
            var killed = workers.First(worker => worker.ConsumedPartitions().Count == 2);
            var killedPartitions = killed.ConsumedPartitions();
            var killedAt = Stopwatch.StartNew();
            await killed.KillAsync();
            workers.Remove(killed);

            await Watchdog.Until(() => IsBalanced(workers), "the two survivors consuming two partitions each");
            var takeover = killedAt.Elapsed;
            output.WriteLine($"partitions [{string.Join(", ", killedPartitions)}] of the killed worker consumed again {takeover.TotalSeconds:F1} s after SIGKILL");
            Assert.True(takeover < TimeSpan.FromSeconds(6), $"taken over after {takeover}");
            Assert.All(killedPartitions, p => Assert.Contains(workers, worker => worker.ConsumedPartitions().Contains(p)));

            await Watchdog.Until(
                async () => sink.Requests.Select(r => r.Key).Distinct().Count() == Partitions * PerPartition && await AllEmptyAsync(queue),
                "every message handled");
            foreach (var worker in workers)
            {
                Assert.Equal(0, await worker.TerminateAsync());
            }

            // Stopped gracefully, the survivors returned anything unacknowledged: every queue empty means every message was acked.
            Assert.True(await AllEmptyAsync(queue), "a partition queue still holds messages");
            Assert.Equal(0u, await queue.CountAsync(queue.DeadLetterQueue));
            AssertNoPartitionServedByTwoWorkersAtOnce(sink);
            var reruns = sink.Requests.GroupBy(r => r.Key).Count(g => g.Count() > 1);
            output.WriteLine($"{reruns} key(s) sent again after the kill (in flight on the killed worker)");
        }
        finally
        {
            foreach (var worker in workers)
            {
                await worker.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Worker_PartitionedPipelineWithoutALeaseStore_ExitsNamingTheSettingAndTheWayOut()
    {
        var environment = new Dictionary<string, string>
        {
            ["JobDedup__Pipelines__orders__Queue"] = "orders",
            ["JobDedup__Pipelines__orders__Partitions"] = "4",
            ["JobDedup__Pipelines__orders__Handler__Url"] = "http://127.0.0.1:9/",
        };
        await using var worker = WorkerProcess.Start(environment);

        Assert.Equal(2, await worker.WaitForExitAsync());
        Assert.Contains("JobDedup:Pipelines:orders:PartitionLeases:PostgreSql must be set", worker.Output, StringComparison.Ordinal);
        Assert.Contains("JobDedup:Pipelines:orders:PartitionAssignment=SingleActiveConsumer", worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_BadPartitionLeaseSettings_ExitNamingEach()
    {
        var environment = new Dictionary<string, string>
        {
            ["JobDedup__Pipelines__orders__Queue"] = "orders",
            ["JobDedup__Pipelines__orders__Partitions"] = "4",
            ["JobDedup__Pipelines__orders__PartitionLeases__PostgreSql"] = "not a connection string",
            ["JobDedup__Pipelines__orders__PartitionLeases__HeartbeatInterval"] = "00:00:00.001",
            ["JobDedup__Pipelines__orders__PartitionLeases__TablePrefix"] = "no-dashes",
            ["JobDedup__Pipelines__orders__Handler__Url"] = "http://127.0.0.1:9/",
        };
        await using var worker = WorkerProcess.Start(environment);

        Assert.Equal(2, await worker.WaitForExitAsync());
        Assert.Contains("JobDedup:Pipelines:orders:PartitionLeases:PostgreSql must be a PostgreSQL connection string", worker.Output, StringComparison.Ordinal);
        Assert.Contains("JobDedup:Pipelines:orders:PartitionLeases:HeartbeatInterval", worker.Output, StringComparison.Ordinal);
        Assert.Contains("JobDedup:Pipelines:orders:PartitionLeases:TablePrefix", worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_PartitionLeasesWithoutPartitions_ExitsNamingBoth()
    {
        var environment = new Dictionary<string, string>
        {
            ["JobDedup__Pipelines__orders__Queue"] = "orders",
            ["JobDedup__Pipelines__orders__PartitionLeases__PostgreSql"] = "Host=127.0.0.1;Username=postgres;Database=jobdedup",
            ["JobDedup__Pipelines__orders__Handler__Url"] = "http://127.0.0.1:9/",
        };
        await using var worker = WorkerProcess.Start(environment);

        Assert.Equal(2, await worker.WaitForExitAsync());
        Assert.Contains("JobDedup:Pipelines:orders:PartitionLeases:PostgreSql is set but JobDedup:Pipelines:orders:Partitions is 0", worker.Output, StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Settings(TestQueue queue, HttpSink sink, PartitionLeaseSchema leases, string worker)
    {
        var environment = new Dictionary<string, string>
        {
            ["JobDedup__RabbitMq__Uri"] = Broker.Uri,
            ["JobDedup__ShutdownTimeout"] = "00:00:05",
            ["JobDedup__Pipelines__orders__Queue"] = queue.Name,
            ["JobDedup__Pipelines__orders__Partitions"] = $"{Partitions}",
            ["JobDedup__Pipelines__orders__Prefetch"] = "10",
            ["JobDedup__Pipelines__orders__MaxHeldDuplicatesPerKey"] = "5",
            ["JobDedup__Pipelines__orders__MaxConcurrentHandlers"] = "4",
            ["JobDedup__Pipelines__orders__Key__Source"] = "JsonProperty",
            ["JobDedup__Pipelines__orders__Key__Name"] = "id",
            ["JobDedup__Pipelines__orders__Handler__Url"] = $"{sink.Url}/{worker}",
        };
        foreach (var (name, value) in leases.WorkerSettings())
        {
            environment[$"JobDedup__Pipelines__orders__{name}"] = value;
        }

        return environment;
    }

    /// <summary>
    /// Every partition consumed by one worker, and each worker settled on its share of a group of them all. Counts that
    /// merely add up are not enough: while a worker that has not seen the last one join still gives a partition up,
    /// the counts can read 2, 1, 1 on their way to 1, 2, 1.
    /// </summary>
    private static bool IsBalanced(List<WorkerProcess> workers)
    {
        var reports = workers.Select(worker => worker.LastPartitionReport()).ToArray();
        return reports.All(report => report.IsSettledAmong(workers.Count))
            && reports.Sum(report => report.Consumed.Count) == Partitions
            && reports.SelectMany(report => report.Consumed).Distinct().Count() == Partitions;
    }

    private static void AssertNoPartitionServedByTwoWorkersAtOnce(HttpSink sink)
    {
        foreach (var partition in sink.Requests.GroupBy(r => r.Key[..r.Key.IndexOf('-', StringComparison.Ordinal)]))
        {
            var requests = partition.OrderBy(r => r.Started).ToArray();
            for (var i = 0; i < requests.Length; i++)
            {
                for (var j = i + 1; j < requests.Length && requests[j].Started < requests[i].Ended; j++)
                {
                    Assert.True(
                        requests[i].Path == requests[j].Path,
                        $"partition {partition.Key}: {requests[i].Path} handled {requests[i].Key} while {requests[j].Path} handled {requests[j].Key}");
                }
            }
        }
    }

    private static async Task<bool> AllEmptyAsync(TestQueue queue)
    {
        for (var p = 0; p < Partitions; p++)
        {
            if (await queue.CountAsync($"{queue.Name}.partition.{p}") != 0)
            {
                return false;
            }
        }

        return true;
    }
}
