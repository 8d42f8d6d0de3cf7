using JobDedup.RabbitMq.Consuming.Acking;
using JobDedup.RabbitMq.Consuming.Connecting;
using JobDedup.RabbitMq.Consuming.Settling;
using JobDedup.RabbitMq.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobDedup.RabbitMq.Tests.Consuming;

/// <summary>
/// A leased consumer's subscription to one partition queue, when the registration's answer is late: the broker made the
/// consumer, and the call gave up before it heard so. No consumer may be left on the broker that the connection does
/// not know of (it would go on holding the partition after the lease moved on).
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class SubscriptionTests(Broker broker)
{
    [Fact]
    public async Task Subscribe_GivenUpAfterTheBrokerRegisteredTheConsumer_LeavesNoConsumerItDoesNotKnowOf()
    {
        await using var setup = await Setup.StartAsync(broker, "subscribe-late");
        var connection = setup.Connection;
        var generation = connection.Generation;

        await setup.SubscribeUnansweredAsync();
        Assert.Empty(connection.Consumed);

        // The channel is replaced: the queue, still wanted, is consumed on the new one by a consumer the connection knows.
        await Watchdog.Until(() => connection.Generation != generation && connection.IsConsuming && connection.Consumed.Contains(setup.Queue.Name), "the queue is consumed again, on a new channel");
        await setup.AssertOneKnownConsumerAsync();
    }

    [Fact]
    public async Task Subscribe_GivenUpWhileIntakePauses_IsNotLeftBesideTheConsumersOfTheResume()
    {
        await using var setup = await Setup.StartAsync(broker, "subscribe-paused");
        var connection = setup.Connection;
        var generation = connection.Generation;

        // Intake pauses (an outage of the store) while the registration's answer is held: the pause waits for it.
        Task<bool>? pausing = null;
        await setup.SubscribeUnansweredAsync(beforeGivingUp: () => pausing = connection.PauseAsync(CancellationToken.None));
        Assert.True(await pausing!.Within());
        Assert.Equal(ConnectionState.Paused, connection.State);

        // Resumed, intake must not go on on the channel that may hold the consumer nobody knows of.
        Assert.True(await connection.UnpauseAsync(CancellationToken.None).Within());
        await Watchdog.Until(() => connection.Generation != generation && connection.IsConsuming && connection.Consumed.Contains(setup.Queue.Name), "intake resumed on a new channel");
        await setup.AssertOneKnownConsumerAsync();
    }

    /// <summary>A leased consumer connection through a proxy that can hold the broker's answers back, and its one queue.</summary>
    private sealed class Setup : IAsyncDisposable
    {
        private readonly TcpFaultProxy _proxy;
        private int _delivered;

        private Setup(TcpFaultProxy proxy, TestQueue queue, string name)
        {
            _proxy = proxy;
            Queue = queue;
            var source = new RabbitMqPublisherOptions { ConnectionUri = new UriBuilder(Broker.Uri) { Host = proxy.Host, Port = proxy.Port }.Uri.ToString() }
                .CreateSource(services: null, name);
            Connection = new ConsumerConnection(
                name,
                source,
                [queue.Name],
                leased: true,
                prefetch: 4,
                declareTopology: null,
                (AckWindow window, QueueTally tally, in DeliveryFrame frame) =>
                {
                    Interlocked.Increment(ref _delivered);
                    return Task.CompletedTask;
                },
                TimeProvider.System,
                NullLogger.Instance);
        }

        public TestQueue Queue { get; }

        public ConsumerConnection Connection { get; }

        public static async Task<Setup> StartAsync(Broker broker, string name)
        {
            var target = new Uri(Broker.Uri);
            var proxy = TcpFaultProxy.Start(target.Host, target.Port);
            var queue = await TestQueue.CreateAsync(broker, name);
            var setup = new Setup(proxy, queue, name);
            try
            {
                await queue.DeclareAsync();
                await setup.Connection.OpenAsync(CancellationToken.None).Within();
                return setup;
            }
            catch
            {
                await setup.DisposeAsync();
                throw;
            }
        }

        /// <summary>
        /// Subscribes the queue with the broker's answers held back, waits until the broker registered the consumer, runs
        /// <paramref name="beforeGivingUp"/>, then cancels the call, and lets the answers through once it gave up.
        /// </summary>
        public async Task SubscribeUnansweredAsync(Action? beforeGivingUp = null)
        {
            _proxy.HoldReplies();
            using var giveUp = new CancellationTokenSource();
            var subscribing = Connection.SubscribeAsync(Queue.Name, giveUp.Token);
            await Watchdog.Until(async () => await BrokerControl.ConsumersAsync(Queue.Name) == 1, "the broker registered the consumer while its answer was held");
            beforeGivingUp?.Invoke();
            await giveUp.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => subscribing.Within());
            _proxy.ReleaseReplies();
        }

        /// <summary>
        /// Asserts the broker holds exactly the one consumer the connection knows of: it gets a message published now,
        /// and once unsubscribed nothing consumes the queue.
        /// </summary>
        public async Task AssertOneKnownConsumerAsync()
        {
            await Watchdog.Until(async () => await BrokerControl.ConsumersAsync(Queue.Name) == 1, "the broker holds only the consumer the connection knows, the other gone with its channel");
            await Queue.PublishAsync("k", "{}", messageId: "after");
            await Watchdog.Until(() => Volatile.Read(ref _delivered) == 1, "the message published afterwards was delivered");
            await Connection.UnsubscribeAsync(Queue.Name, CancellationToken.None).Within();
            Assert.Equal(0, await BrokerControl.ConsumersAsync(Queue.Name));
            Assert.Equal(1, Volatile.Read(ref _delivered));
        }

        public async ValueTask DisposeAsync()
        {
            await Connection.DisposeAsync();
            await Queue.DisposeAsync();
            await _proxy.DisposeAsync();
        }
    }
}
