using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using JobDedup.Partitions;
using JobDedup.RabbitMq.Partitions;
using JobDedup.RabbitMq.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace JobDedup.RabbitMq.Tests.Partitions;

/// <summary>
/// Instances on a partitioned queue with PostgreSQL partition leases, on the real broker and server: each consumes
/// its share, they rebalance when one joins or leaves, and a partition is never consumed by two at once.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class LeasedPartitionTests(Broker broker)
{
    private const int Partitions = 4;
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Instances_StartingTogether_EachConsumesItsShareWithinTenSecondsAndOnlyItsOwn(int instances)
    {
        await using var queue = await TestQueue.CreateAsync(broker, $"leased-{instances}");
        queue.UsesPartitions(Partitions);
        await using var leases = await PartitionLeaseSchema.CreateAsync();
        var record = new ConsumptionRecord();
        var started = Stopwatch.StartNew();
        var hosts = await Task.WhenAll(Enumerable.Range(0, instances).Select(i => StartAsync(queue, leases, $"i{i}", record)));
        try
        {
            await Watchdog.Until(() => IsBalanced(hosts), $"{instances} instances each consuming its share of {Partitions} partitions");
            var balancedAfter = started.Elapsed;
            Assert.True(balancedAfter < StartLimit, $"balanced after {balancedAfter}");

            var owners = OwnerOfEachPartition(hosts);
            await PublishAsync(queue, perPartition: 50);
            await Watchdog.Until(() => record.Runs.Count == Partitions * 50, "every message handled");

            Assert.All(record.Runs, run => Assert.Equal(owners[run.Partition], run.Instance));
            Assert.Equal(Partitions * 50, record.Runs.Select(run => run.Key).Distinct().Count());
        }
        finally
        {
            await StopAllAsync(hosts);
        }
    }

    [Fact]
    public async Task InstancesJoiningMidBurst_PartitionsRebalanceAndNoneIsConsumedByTwoAtOnce()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "leased-join");
        queue.UsesPartitions(Partitions);
        await using var leases = await PartitionLeaseSchema.CreateAsync();
        var record = new ConsumptionRecord { HandlerPause = TimeSpan.FromMilliseconds(20) };
        const int Total = Partitions * (100 + 100 + 50);

        // A partition is handed over once every delivery already taken from it is settled: a small prefetch keeps that short.
        var hosts = new List<ConsumerHost> { await StartAsync(queue, leases, "i0", record, prefetch: 10) };
        try
        {
            await Watchdog.Until(() => IsBalanced(hosts), "the first instance consumes every partition");
            await PublishAsync(queue, perPartition: 100, from: 0);
            await Watchdog.Until(() => record.Runs.Count >= 50, "the first burst is under way");
            hosts.Add(await StartAsync(queue, leases, "i1", record, prefetch: 10));
            await Watchdog.Until(() => IsBalanced(hosts), "two instances each consuming two partitions");

            await PublishAsync(queue, perPartition: 100, from: 100);
            hosts.Add(await StartAsync(queue, leases, "i2", record, prefetch: 10));
            await Watchdog.Until(() => IsBalanced(hosts), "three instances each consuming its share");

            // After the last rebalance: every instance gets the messages of its own partitions.
            await PublishAsync(queue, perPartition: 50, from: 200);
            await Watchdog.Until(() => record.Runs.Count >= Total, "every message handled");

            Assert.True(record.Runs.Any(run => run.Instance == "i1") && record.Runs.Any(run => run.Instance == "i2"), "the instances that joined took part");
            Assert.Equal(Total, record.Runs.Count); // every key ran once: nothing was redelivered
            Assert.Equal(Total, record.Runs.Select(run => run.Key).Distinct().Count());
            AssertNoPartitionConsumedByTwoAtOnce(record);
            for (var i = 0; i < Partitions; i++)
            {
                Assert.Equal(0u, await queue.CountAsync($"{queue.Name}.partition.{i}"));
            }

            Assert.Equal(0u, await queue.CountAsync(queue.DeadLetterQueue));
        }
        finally
        {
            await StopAllAsync(hosts);
        }
    }

    [Fact]
    public async Task OneOfThreeStopping_ItsPartitionsMoveToTheOthersWithinAHeartbeatOrTwo()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "leased-leave");
        queue.UsesPartitions(Partitions);
        await using var leases = await PartitionLeaseSchema.CreateAsync();
        var record = new ConsumptionRecord();
        var hosts = (await Task.WhenAll(Enumerable.Range(0, 3).Select(i => StartAsync(queue, leases, $"i{i}", record)))).ToList();
        try
        {
            await Watchdog.Until(() => IsBalanced(hosts), "three instances each consuming its share");
            var leaving = hosts.First(host => Consumed(host).Count == 1);

            var stopped = Stopwatch.StartNew();
            await leaving.DisposeAsync();
            hosts.Remove(leaving);
            await Watchdog.Until(() => IsBalanced(hosts), "the two others consuming two partitions each");
            var movedAfter = stopped.Elapsed;

            Assert.True(movedAfter < TimeSpan.FromSeconds(3), $"moved after {movedAfter}");
            await PublishAsync(queue, perPartition: 20);
            await Watchdog.Until(() => record.Runs.Count == Partitions * 20, "every message handled by the two left");
        }
        finally
        {
            await StopAllAsync(hosts);
        }
    }

    [Fact]
    public async Task LeaseStoreFailingToHandOutLeases_IsAskedAgainEachHeartbeatAndTheInstanceConsumesOnceItAnswers()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "leased-acquire-fails");
        queue.UsesPartitions(Partitions);
        await using var leases = await PartitionLeaseSchema.CreateAsync();
        var record = new ConsumptionRecord();
        AcquireFailingLeaseStore? store = null;
        await using var host = await StartAsync(queue, leases, "i0", record, decorate: inner => store = new AcquireFailingLeaseStore(inner));
        Assert.NotNull(store);

        // Each heartbeat asks once for each free partition. A failure must wait for the next heartbeat, not start the
        // next round at once: two more rounds after the first take two heartbeats (at least one is asserted, as a
        // slower machine can only take longer; a loop that did not wait took milliseconds).
        await Watchdog.Until(() => store.FailedAcquisitions >= 1, "a failed acquisition");
        var first = store.FailedAcquisitions;
        var since = Stopwatch.StartNew();
        await Watchdog.Until(() => store.FailedAcquisitions >= first + (2 * Partitions), "two more rounds of failed acquisitions");
        var elapsed = since.Elapsed;
        Assert.True(elapsed >= store.HeartbeatInterval, $"{store.FailedAcquisitions - first} more failed acquisitions of {Partitions} partitions within {elapsed}; the heartbeat is {store.HeartbeatInterval}");
        Assert.Empty(Consumed(host));

        store.Recover();
        await Watchdog.Until(() => IsBalanced([host]), "the instance consumes every partition once the store answers");
        await PublishAsync(queue, perPartition: 10);
        await Watchdog.Until(() => record.Runs.Count == Partitions * 10, "every message handled");
    }

    [Fact]
    public async Task RenewalHangingPastTheFence_AndAnsweringAsTheFenceStops_EveryPartitionIsConsumedAgain()
    {
        // The fence (on its timer) stops every partition when no renewal came for too long; the hung renewal then
        // answers and the heartbeat takes the partitions again at once, while the fence may still be stopping them.
        // A stop that landed after the new start left partitions unconsumed though their state said consumed (a
        // fault run saw 2 of 6 partitions without a consumer for good). Whatever the order, every partition must be
        // consumed again: the messages published afterwards to each are all handled. Three rounds, as the second found a
        // fence timer that had fired a little early and was never armed again, so a hung renewal was never fenced.
        await using var queue = await TestQueue.CreateAsync(broker, "leased-fence-race");
        queue.UsesPartitions(Partitions);
        await using var leases = await PartitionLeaseSchema.CreateAsync();
        var record = new ConsumptionRecord();
        RenewalHoldingLeaseStore? store = null;
        await using var host = await StartAsync(queue, leases, "i0", record, decorate: inner => store = new RenewalHoldingLeaseStore(inner));
        Assert.NotNull(store);
        await Watchdog.Until(() => IsBalanced([host]), "the instance consumes every partition");

        for (var round = 1; round <= 3; round++)
        {
            // Answer the moment the fence has freed the partitions, before or while it stops their consumers.
            store.Hold(until: () => Consumed(host).Count == 0);
            await Watchdog.Until(() => store.Released == round, $"fence {round} and the renewal after it");
            Assert.True(store.LastHoldMet, $"the fence freed the partitions while the renewal hung (held {store.LastHold})");
            await Watchdog.Until(() => IsBalanced([host]), $"every partition consumed again after fence {round}");

            await PublishAsync(queue, perPartition: 5, from: round * 5);
            await Watchdog.Until(() => record.Runs.Count == Partitions * 5 * round, $"every message published after fence {round} handled");
        }
    }

    [Fact]
    public async Task LeaseGrantedAfterTheRenewalRanOut_IsConsumedAtTheNextRenewal()
    {
        // The store grants a lease only once the renewal the heartbeat acted on is older than the fence: the instance
        // holds the partition but must not start consuming it on that renewal's word. The next renewal must start it.
        // The plan used to count a held partition as consumed, so it was never tried again while its lease was
        // renewed, and no other instance could take it (a fault run saw 2 of 6 partitions left so for good).
        await using var queue = await TestQueue.CreateAsync(broker, "leased-late-grant");
        queue.UsesPartitions(Partitions);
        await using var leases = await PartitionLeaseSchema.CreateAsync();
        var record = new ConsumptionRecord();
        SlowFirstAcquireLeaseStore? store = null;
        ConsumerHost? started = null;
        await using var host = await StartAsync(queue, leases, "i0", record, decorate: inner => store = new SlowFirstAcquireLeaseStore(inner)
        {
            IsConsumed = partition => Volatile.Read(ref started) is { } h ? Consumed(h).Contains(partition) : null,
        });
        Volatile.Write(ref started, host);
        Assert.NotNull(store);

        await Watchdog.Until(() => store.SlowPartition >= 0, "the late grant");
        await Watchdog.Until(() => store.UnconsumedAtNextRenewal >= 0, "the renewal after the late grant");
        Assert.True(store.UnconsumedAtNextRenewal == 1, "the late-granted partition was already consumed when the next renewal began: the case this test is about did not happen");
        await Watchdog.Until(() => IsBalanced([host]), $"every partition consumed, partition {store.SlowPartition} (granted late) among them");
        await PublishAsync(queue, perPartition: 5);
        await Watchdog.Until(() => record.Runs.Count == Partitions * 5, "every message handled");
    }

    private static async Task<ConsumerHost> StartAsync(
        TestQueue queue,
        PartitionLeaseSchema leases,
        string instance,
        ConsumptionRecord record,
        int prefetch = 200,
        Func<IPartitionLeaseStore, IPartitionLeaseStore>? decorate = null) =>
        await ConsumerHost.StartAsync(
            queue,
            (message, context, ct) => record.HandleAsync(instance, context.Key, ct),
            dedup: o =>
            {
                o.DedupeWindow = TimeSpan.FromMinutes(5);
                o.MaxConcurrentHandlers = 4;
            },
            consumer: o =>
            {
                o.Partitions = Partitions;
                o.Prefetch = prefetch;
                o.MaxHeldDuplicatesPerKey = Math.Min(o.MaxHeldDuplicatesPerKey, prefetch - 1);
            },
            shutdownTimeout: TimeSpan.FromSeconds(10),
            engine: b =>
            {
                b.UsePostgreSqlPartitionLeases(leases.ConnectionString, leases.Configure);
                if (decorate is not null)
                {
                    // Registered last, so the consumer gets it: the PostgreSQL store behind what the test puts around it.
                    b.Services.AddKeyedSingleton(b.Name, (sp, key) => decorate(sp.GetRequiredKeyedService<PostgreSqlPartitionLeaseStore>(key)));
                }
            });

    private static async Task PublishAsync(TestQueue queue, int perPartition, int from = 0)
    {
        // Straight into each partition queue, keys named after it, so that every run says which partition it came from.
        for (var n = from; n < from + perPartition; n++)
        {
            for (var p = 0; p < Partitions; p++)
            {
                await queue.PublishToAsync($"{queue.Name}.partition.{p}", $"p{p}-k{n}", Encoding.UTF8.GetBytes("{}"));
            }
        }
    }

    private static HashSet<int> Consumed(ConsumerHost host)
    {
        var states = Consumers.Of(host).Partitions!.States;
        return [.. Enumerable.Range(0, states.Length).Where(p => states[p] == PartitionState.Consuming)];
    }

    /// <summary>Every partition consumed by exactly one instance, and the shares differ by at most one.</summary>
    private static bool IsBalanced(IReadOnlyCollection<ConsumerHost> hosts)
    {
        var consumed = hosts.Select(Consumed).ToArray();
        var counts = consumed.Select(c => c.Count).ToArray();
        return consumed.Sum(c => c.Count) == Partitions
            && consumed.SelectMany(c => c).Distinct().Count() == Partitions
            && counts.Max() - counts.Min() <= 1
            && hosts.All(host => Consumers.Of(host).ConsumedQueues.Count == Consumed(host).Count)
            && hosts.All(host => IsSettled(host, hosts.Count));
    }

    /// <summary>
    /// The instance consumes exactly its share of a group of <paramref name="members"/>: counts that merely add up are
    /// not enough, as they can read 2, 1, 1 on their way to 1, 2, 1 while an instance that has not seen the last one
    /// join still gives a partition up.
    /// </summary>
    private static bool IsSettled(ConsumerHost host, int members)
    {
        var standing = Consumers.Of(host).Partitions!.Standing;
        return standing.Members == members && Consumed(host).Count == standing.Share;
    }

    private static Dictionary<int, string> OwnerOfEachPartition(ConsumerHost[] hosts)
    {
        var owners = new Dictionary<int, string>();
        for (var i = 0; i < hosts.Length; i++)
        {
            foreach (var partition in Consumed(hosts[i]))
            {
                owners[partition] = $"i{i}";
            }
        }

        return owners;
    }

    private static void AssertNoPartitionConsumedByTwoAtOnce(ConsumptionRecord record)
    {
        foreach (var partition in record.Runs.GroupBy(run => run.Partition))
        {
            var runs = partition.OrderBy(run => run.Started).ToArray();
            for (var i = 0; i < runs.Length; i++)
            {
                for (var j = i + 1; j < runs.Length && runs[j].Started < runs[i].Ended; j++)
                {
                    Assert.True(
                        runs[i].Instance == runs[j].Instance,
                        $"partition {partition.Key}: {runs[i].Instance} ran {runs[i].Key} while {runs[j].Instance} ran {runs[j].Key}");
                }
            }
        }
    }

    private static async Task StopAllAsync(IEnumerable<ConsumerHost> hosts)
    {
        foreach (var host in hosts)
        {
            await host.DisposeAsync();
        }
    }

    /// <summary>Who ran which key of which partition, and when: the shared record every instance writes to.</summary>
    private sealed class ConsumptionRecord
    {
        public ConcurrentBag<Run> Runs { get; } = [];

        public TimeSpan HandlerPause { get; init; } = TimeSpan.Zero;

        public async ValueTask<string> HandleAsync(string instance, string key, CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            if (HandlerPause > TimeSpan.Zero)
            {
                // Work that takes time, so that the burst is still running when instances join.
                await Task.Delay(HandlerPause, cancellationToken);
            }

            var partition = int.Parse(key.AsSpan(1, key.IndexOf('-', StringComparison.Ordinal) - 1), System.Globalization.CultureInfo.InvariantCulture);
            Runs.Add(new Run(instance, partition, key, started, Stopwatch.GetTimestamp()));
            return "done";
        }
    }

    private sealed record Run(string Instance, int Partition, string Key, long Started, long Ended);
}
