using System.Reflection;
using JobDedup.RabbitMq.Consuming.Acking;
using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Tests.Consuming;

/// <summary>The ack window's own logic, against a channel that records what would go on the wire.</summary>
public sealed class AckWindowTests
{
    [Fact]
    public async Task Acks_ReadyFromTheOldestUp_GoAsOneMultipleAck()
    {
        var (window, wire, _) = Create();
        var deliveries = Receive(window, 3);

        var second = Ack(window, deliveries[1]);
        Assert.Empty(wire.Frames); // the oldest is still in progress
        Assert.True(await Ack(window, deliveries[0]).Within());

        Assert.Equal(["ack 2 multiple"], wire.Frames);
        Assert.True(await Ack(window, deliveries[2]).Within());
        Assert.Equal(["ack 2 multiple", "ack 3 multiple"], wire.Frames);
        Assert.True(await second.Within()); // covered by the multiple ack, without waiting for the straggler pause
        Assert.Equal(0, window.Listed);
    }

    [Fact]
    public async Task Ack_StuckBehindAnOlderDelivery_IsAckedOnItsOwnAfterThePause()
    {
        var (window, wire, time) = Create();
        var deliveries = Receive(window, 2);

        var straggler = Ack(window, deliveries[1]);
        Assert.Empty(wire.Frames);
        Assert.False(straggler.IsCompleted);
        time.Advance(AckWindow.StragglerPause);

        Assert.True(await straggler.Within());
        Assert.Equal(["ack 2 single"], wire.Frames);
        Assert.Equal(1, window.Listed);
        deliveries[0].TryStartSettling();
        Assert.True(await window.RequeueAsync(deliveries[0]).Within());
        Assert.Equal(["ack 2 single", "nack 1"], wire.Frames);
        Assert.Equal(0, time.PendingTimers);
        Assert.Equal(0, window.Listed);
    }

    [Fact]
    public async Task Acks_BehindOneHeldDelivery_LeaveTheListAtOnceWhereverTheyStand()
    {
        // Regression: entries used to leave only from the front, so every delivery settled behind a long one stayed
        // listed (with its body) while the broker, its prefetch slot freed by the single ack, kept sending more.
        var (window, wire, time) = Create(capacity: 10);
        var held = Receive(window, 1)[0];
        for (var round = 0; round < 50; round++)
        {
            var batch = Receive(window, 9, firstTag: 2 + ((ulong)round * 9));
            var acks = batch.Select(d => Ack(window, d)).ToArray();
            time.Advance(AckWindow.StragglerPause);
            Assert.All(await Task.WhenAll(acks).Within(), Assert.True);
            Assert.Equal(1, window.Listed);
        }

        Assert.Equal(450, wire.Frames.Count);
        Assert.All(wire.Frames, frame => Assert.EndsWith("single", frame));
        Assert.True(await Ack(window, held).Within());
        Assert.Equal("ack 1 multiple", wire.Frames[^1]);
        Assert.Equal(0, window.Listed);
    }

    [Fact]
    public async Task Acks_NeverCoverADeliveryStillInProgress()
    {
        var (window, wire, time) = Create();
        var deliveries = Receive(window, 5);

        // 1 and 3 are still in progress: 2 is a straggler, and only 4 and 5 behind 3 are ready.
        var acks = new[] { Ack(window, deliveries[1]), Ack(window, deliveries[3]), Ack(window, deliveries[4]) };
        time.Advance(AckWindow.StragglerPause);
        await Task.WhenAll(acks).Within();

        Assert.Equal(["ack 2 single", "ack 4 single", "ack 5 single"], wire.Frames.Order());
        Assert.Equal(DeliveryState.InProgress, deliveries[0].State);
        Assert.Equal(DeliveryState.InProgress, deliveries[2].State);
        Assert.Equal(2, window.Listed);
    }

    [Fact]
    public async Task Requeue_OfTheOldest_IsWrittenBeforeTheAckOfTheReadyRunBehindIt()
    {
        var (window, wire, _) = Create();
        var deliveries = Receive(window, 3);
        var behind = new[] { Ack(window, deliveries[1]), Ack(window, deliveries[2]) };

        deliveries[0].TryStartSettling();
        Assert.True(await window.RequeueAsync(deliveries[0]).Within());
        Assert.All(await Task.WhenAll(behind).Within(), Assert.True);

        // The multiple ack of 3 must not reach the broker before the nack of 1, or it would ack 1 too.
        Assert.Equal(["nack 1", "ack 3 multiple"], wire.Frames);
    }

    [Fact]
    public async Task Ack_CompletesOnlyOnceItsFrameIsWritten()
    {
        var (window, wire, _) = Create();
        var delivery = Receive(window, 1)[0];
        var written = wire.Hold();

        var ack = Ack(window, delivery);
        await wire.Writing.Within();
        Assert.False(ack.IsCompleted);

        written.TrySetResult();
        Assert.True(await ack.Within());
    }

    [Fact]
    public async Task Ack_OfADeliveryClearedWithItsConnection_SendsNothingAndLeavesNoTimerRunning()
    {
        // Regression: a delivery cleared (connection lost) and then acked used to count as ready for ever, rearming
        // the straggler check every 5 ms with nothing to ack.
        var (window, wire, time) = Create();
        var deliveries = Receive(window, 2);
        deliveries[1].TryStartSettling();

        window.Close();

        Assert.False(await window.AckAsync(deliveries[1]).Within());
        Assert.Empty(wire.Frames);
        Assert.Equal(0, time.PendingTimers);
        Assert.All(deliveries, d => Assert.Equal(DeliveryState.Stale, d.State));
    }

    [Fact]
    public async Task Straggler_WaitingWhenTheConnectionDrops_LearnsItWasNotAcked()
    {
        var (window, wire, time) = Create();
        var deliveries = Receive(window, 2);
        var straggler = Ack(window, deliveries[1]);

        window.Close();
        time.Advance(AckWindow.StragglerPause);

        Assert.False(await straggler.Within());
        Assert.Empty(wire.Frames);
    }

    [Fact]
    public void TryList_WhileClosed_RefusesTheDeliveryUntilReopenedInANewGeneration()
    {
        // Regression: a delivery copied while the connection dropped was listed after the window was cleared, and then
        // blocked every multiple ack of the recovered channel.
        var (window, _, _) = Create();
        window.Close();

        var late = new Delivery(1, new RabbitMqMessage(ReadOnlyMemory<byte>.Empty));
        Assert.False(window.TryList(late));
        Assert.Equal(DeliveryState.Stale, late.State);
        Assert.Equal(0, window.Listed);

        window.Reopen(generation: 1);
        var next = new Delivery(2, new RabbitMqMessage(ReadOnlyMemory<byte>.Empty));
        Assert.True(window.TryList(next));
        Assert.Equal(1, next.Generation);
        Assert.Equal(1, window.Listed);
    }

    private static Task<bool> Ack(AckWindow window, Delivery delivery)
    {
        Assert.True(delivery.TryStartSettling());
        return window.AckAsync(delivery);
    }

    private static (AckWindow Window, RecordingChannel Wire, TimerCountingTimeProvider Time) Create(int capacity = 100)
    {
        var time = new TimerCountingTimeProvider();
        var channel = DispatchProxy.Create<IChannel, RecordingChannel>();
        var wire = (RecordingChannel)(object)channel;
        return (new AckWindow(channel, time, capacity, generation: 0), wire, time);
    }

    private static Delivery[] Receive(AckWindow window, int count, ulong firstTag = 1) =>
        [.. Enumerable.Range(0, count).Select(i =>
        {
            var delivery = new Delivery(firstTag + (ulong)i, new RabbitMqMessage(ReadOnlyMemory<byte>.Empty));
            Assert.True(window.TryList(delivery));
            return delivery;
        })];

    /// <summary>An <see cref="IChannel"/> that records acks and nacks; any other call is a test bug.</summary>
    public class RecordingChannel : DispatchProxy
    {
        private readonly List<string> _frames = [];
        private readonly TaskCompletionSource _writing = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource? _hold;

        public List<string> Frames
        {
            get
            {
                lock (_frames)
                {
                    return [.. _frames];
                }
            }
        }

        /// <summary>Gets a task that completes when a frame is being written.</summary>
        public Task Writing => _writing.Task;

        /// <summary>Holds every write until the returned source completes.</summary>
        public TaskCompletionSource Hold() => _hold = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            var frame = targetMethod!.Name switch
            {
                nameof(IChannel.BasicAckAsync) => $"ack {args![0]} {((bool)args[1]! ? "multiple" : "single")}",
                nameof(IChannel.BasicNackAsync) => $"nack {args![0]}",
                _ => throw new NotSupportedException(targetMethod.Name),
            };
            lock (_frames)
            {
                _frames.Add(frame);
            }

            _writing.TrySetResult();
            return _hold is { } hold ? new ValueTask(hold.Task) : ValueTask.CompletedTask;
        }
    }
}
