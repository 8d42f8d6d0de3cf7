using System.Reflection;
using JobDedup.RabbitMq.Consuming;
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

        await window.AckAsync(deliveries[1]);
        Assert.Empty(wire.Frames); // the oldest is still in progress
        await window.AckAsync(deliveries[0]);

        Assert.Equal(["ack 2 multiple"], wire.Frames);
        await window.AckAsync(deliveries[2]);
        Assert.Equal(["ack 2 multiple", "ack 3 multiple"], wire.Frames);
    }

    [Fact]
    public async Task Ack_StuckBehindAnOlderDelivery_IsAckedOnItsOwnAfterThePause()
    {
        var (window, wire, time) = Create();
        var deliveries = Receive(window, 2);

        await window.AckAsync(deliveries[1]);
        Assert.Empty(wire.Frames);
        time.Advance(TimeSpan.FromMilliseconds(5));

        await Watchdog.Until(() => wire.Frames.Count == 1, "the straggler ack");
        Assert.Equal(["ack 2 single"], wire.Frames);
        await window.NackAsync(deliveries[0]);
        Assert.Equal(["ack 2 single", "nack 1"], wire.Frames);
        Assert.Equal(0, time.PendingTimers);
    }

    [Fact]
    public async Task Ack_OfADeliveryClearedWithItsConnection_SendsNothingAndLeavesNoTimerRunning()
    {
        // Regression: a delivery cleared (connection lost) and then acked used to count as ready for ever, rearming
        // the straggler check every 5 ms with nothing to ack.
        var (window, wire, time) = Create();
        var deliveries = Receive(window, 2);

        window.Clear();
        await window.AckAsync(deliveries[1]);

        Assert.Empty(wire.Frames);
        Assert.Equal(0, time.PendingTimers);
    }

    private static (AckWindow Window, RecordingChannel Wire, TimerCountingTimeProvider Time) Create()
    {
        var time = new TimerCountingTimeProvider();
        var channel = DispatchProxy.Create<IChannel, RecordingChannel>();
        var wire = (RecordingChannel)(object)channel;
        return (new AckWindow(channel, time), wire, time);
    }

    private static Delivery[] Receive(AckWindow window, int count) =>
        [.. Enumerable.Range(1, count).Select(tag =>
        {
            var delivery = new Delivery(window, generation: 0, (ulong)tag, new RabbitMqMessage(ReadOnlyMemory<byte>.Empty));
            window.Received(delivery);
            return delivery;
        })];

    /// <summary>An <see cref="IChannel"/> that records acks and nacks; any other call is a test bug.</summary>
    public class RecordingChannel : DispatchProxy
    {
        private readonly List<string> _frames = [];

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

            return ValueTask.CompletedTask;
        }
    }
}
