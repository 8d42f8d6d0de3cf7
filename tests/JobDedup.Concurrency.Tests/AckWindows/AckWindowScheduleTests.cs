using JobDedup.Concurrency.Tests.Support;
using JobDedup.RabbitMq;
using JobDedup.RabbitMq.Consuming.Acking;
using Microsoft.Coyote.Specifications;
using Xunit.Abstractions;

namespace JobDedup.Concurrency.Tests.AckWindows;

/// <summary>
/// The consumer's ack window, under schedules Coyote picks: an ack never covers a delivery still in progress, nothing
/// is settled twice or in the wrong generation, every settlement learns that its frame was written, and the window
/// never lists more than the prefetch allows.
/// </summary>
public sealed class AckWindowScheduleTests(ITestOutputHelper output)
{
    private const int Capacity = 4;

    [Fact]
    public void Settlements_InAnyOrderWithStragglerPauses_AckOnlyReadyDeliveriesOnce() =>
        ScheduleExploration.Explore(output, nameof(Settlements_InAnyOrderWithStragglerPauses_AckOnlyReadyDeliveriesOnce), seed: 1501, async () =>
        {
            var (channel, wire) = WireLedger.Create();
            var time = new ScheduledTimeProvider();
            var window = new AckWindow(channel, time, Capacity, generation: 1);
            var deliveries = Receive(window, wire, firstTag: 1, Capacity);

            // Tag 3 is returned to the queue, the others acked; each straggler pause ends at a point the schedule picks.
            var settlements = deliveries
                .Select(delivery => Task.Run(() => Settle(window, delivery, requeue: delivery.DeliveryTag == 3)))
                .ToArray();
            var written = await Task.WhenAll(settlements);
            await window.FlushAsync();

            Specification.Assert(written.All(static w => w), "a settlement did not learn that its frame was written: {0}", string.Join(", ", written));
            Specification.Assert(wire.Outstanding == 0, "{0} deliveries were never settled on the wire: {1}", wire.Outstanding, string.Join(" / ", wire.Frames));
            Specification.Assert(window.Listed == 0, "{0} deliveries stayed listed after all were settled", window.Listed);
        });

    [Fact]
    public void Settlements_BehindOneLongDelivery_LeaveTheListAndKeepItWithinThePrefetch() =>
        ScheduleExploration.Explore(output, nameof(Settlements_BehindOneLongDelivery_LeaveTheListAndKeepItWithinThePrefetch), seed: 1502, async () =>
        {
            var (channel, wire) = WireLedger.Create();
            var time = new ScheduledTimeProvider();
            var window = new AckWindow(channel, time, Capacity, generation: 1);
            var held = Receive(window, wire, firstTag: 1, 1)[0];

            // Behind the held delivery, the broker refills the prefetch each time a straggler's single ack frees a slot.
            var nextTag = 2UL;
            for (var round = 0; round < 3; round++)
            {
                var room = Capacity - wire.Outstanding;
                var batch = Receive(window, wire, nextTag, room);
                nextTag += (ulong)room;
                var written = await Task.WhenAll(batch.Select(delivery => Task.Run(() => Settle(window, delivery, requeue: false))));
                Specification.Assert(written.All(static w => w), "a straggler's ack was not written in round {0}", round);
                Specification.Assert(window.Listed == 1, "round {0}: {1} listed behind the held delivery, which alone is unsettled", round, window.Listed);
            }

            Specification.Assert(await Settle(window, held, requeue: false), "the held delivery's ack was not written");
            Specification.Assert(wire.Outstanding == 0 && window.Listed == 0, "left: {0} on the wire, {1} listed", wire.Outstanding, window.Listed);
        });

    [Fact]
    public void ConnectionLoss_DuringSettlements_NeverSettlesAStaleDeliveryInTheNewGeneration() =>
        ScheduleExploration.Explore(output, nameof(ConnectionLoss_DuringSettlements_NeverSettlesAStaleDeliveryInTheNewGeneration), seed: 1503, async () =>
        {
            var (channel, wire) = WireLedger.Create();
            var time = new ScheduledTimeProvider();
            var window = new AckWindow(channel, time, Capacity, generation: 1);
            var before = Receive(window, wire, firstTag: 1, 3);
            var late = new Delivery(4, new RabbitMqMessage(ReadOnlyMemory<byte>.Empty));
            wire.Send(late);

            var settlements = before
                .Select(delivery => Task.Run(() => Settle(window, delivery, requeue: delivery.DeliveryTag == 2)))
                .ToArray();

            // A delivery the broker sent just before the connection dropped, copied while it drops: listed before the
            // loss, or refused as stale after it. (The client recovers a consumer only after the callbacks of its
            // old connection have returned, so its listing never races with the reopening.)
            var arriving = Task.Run(() => window.TryList(late) ? Settle(window, late, requeue: false) : Task.FromResult(false));
            var loss = Task.Run(async () =>
            {
                await Task.Yield();
                wire.GoDown();
                window.Close();
                await arriving;
                wire.Recover();
                window.Reopen(2);
            });

            await loss;
            await Task.WhenAll(settlements);

            // The recovered channel starts its tags at 1 again; only its own deliveries may be settled on it.
            var after = Receive(window, wire, firstTag: 1, 2);
            var written = await Task.WhenAll(after.Select(delivery => Settle(window, delivery, requeue: false)));
            await window.FlushAsync();

            Specification.Assert(written.All(static w => w), "a delivery of the recovered channel was not acked");
            Specification.Assert(wire.Outstanding == 0, "{0} deliveries of the recovered channel were never settled: {1}", wire.Outstanding, string.Join(" / ", wire.Frames));
            Specification.Assert(window.Listed == 0, "{0} deliveries stayed listed", window.Listed);
            Specification.Assert(late.State is DeliveryState.Stale or DeliveryState.Acked, "the delivery copied during the loss was left {0}", late.State);
        });

    private static Delivery[] Receive(AckWindow window, WireLedger wire, ulong firstTag, int count) =>
        [.. Enumerable.Range(0, count).Select(i =>
        {
            var delivery = new Delivery(firstTag + (ulong)i, new RabbitMqMessage(ReadOnlyMemory<byte>.Empty));
            wire.Send(delivery);
            Specification.Assert(window.TryList(delivery), "an open window refused tag {0}", delivery.DeliveryTag);
            Specification.Assert(window.Listed <= Capacity, "{0} listed with a prefetch of {1}", window.Listed, Capacity);
            return delivery;
        })];

    private static async Task<bool> Settle(AckWindow window, Delivery delivery, bool requeue)
    {
        if (!delivery.TryStartSettling())
        {
            return false;
        }

        await Task.Yield();
        try
        {
            return await (requeue ? window.RequeueAsync(delivery) : window.AckAsync(delivery));
        }
        catch (InvalidOperationException)
        {
            // The frame met the channel while it was down, as the consumer's settler expects: the broker took the
            // delivery back by itself.
            return false;
        }
    }
}
