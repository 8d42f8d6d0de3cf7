using System.Collections.Concurrent;
using System.Text;
using JobDedup.RabbitMq.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using static JobDedup.RabbitMq.Tests.Support.HeaderValues;

namespace JobDedup.RabbitMq.Tests.Consuming;

[Collection(BrokerCollection.Name)]
public sealed class FailureTests(Broker broker)
{
    [Fact]
    public async Task Consumer_HandlerFailsTwiceThenSucceeds_GoesThroughTheRetryQueueAndSucceeds()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "retry");
        using var settled = new Settlements(queue.Name);
        var attempts = new ConcurrentQueue<int>();
        await using var host = await ConsumerHost.StartAsync(queue, (message, context, ct) =>
        {
            attempts.Enqueue(message.Attempt);
            return message.Attempt < 3
                ? throw new TimeoutException($"gateway timeout on delivery {message.Attempt}")
                : ValueTask.FromResult("paid");
        });

        await queue.PublishAsync("evt_1", "{}");
        await Watchdog.Until(() => settled["ack"] == 1, "the third delivery succeeded");
        await host.StopAsync();

        Assert.Equal([1, 2, 3], attempts);
        Assert.Equal(2, settled["retry"]);
        Assert.Equal(0u, await queue.CountAsync(queue.DeadLetterQueue));
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
        Assert.Equal(0u, await queue.CountAsync($"{queue.Name}.retry.1"));
    }

    [Fact]
    public async Task Consumer_HandlerAlwaysFails_DeadLettersWithReasonAfterMaxDeliveryAttempts()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "always-fails");
        using var settled = new Settlements(queue.Name);
        var runs = new ConcurrentDictionary<string, int>();
        await queue.DeclareAsync();
        for (var i = 0; i < 10; i++)
        {
            await queue.PublishAsync($"evt_{i}", "{}", messageId: $"msg-{i}");
        }

        await using var host = await ConsumerHost.StartAsync(
            queue,
            (message, context, ct) =>
            {
                runs.AddOrUpdate(context.Key, 1, (_, n) => n + 1);
                return context.Key.EndsWith('7') || context.Key.EndsWith('3')
                    ? throw new InvalidOperationException("card declined")
                    : ValueTask.FromResult("ok");
            },
            consumer: o => o.MaxDeliveryAttempts = 3);

        await Watchdog.Until(() => settled["ack"] + settled["dead-letter"] == 10, "every message acked or dead-lettered");
        await host.StopAsync();

        Assert.Equal(8, settled["ack"]);
        Assert.Equal(2, settled["dead-letter"]);
        Assert.Equal(3, runs["evt_3"]);
        Assert.Equal(3, runs["evt_7"]);
        Assert.Equal(1, runs["evt_0"]);
        var dead = await queue.DrainAsync(queue.DeadLetterQueue);
        Assert.Equal(["msg-3", "msg-7"], dead.Select(m => m.BasicProperties.MessageId).Order());
        foreach (var letter in dead)
        {
            var headers = letter.BasicProperties.Headers!;
            Assert.Equal(DeadLetterReasons.HandlerFailed, Text(headers[JobDedupHeaders.Reason]));
            Assert.Equal(typeof(InvalidOperationException).FullName, Text(headers[JobDedupHeaders.ExceptionType]));
            Assert.Equal("card declined", Text(headers[JobDedupHeaders.ExceptionMessage]));
            Assert.Equal(3L, headers[JobDedupHeaders.Attempt]);
            Assert.True((long)headers[JobDedupHeaders.FirstSeen]! > 0);
            Assert.Equal(queue.Name, Text(headers[JobDedupHeaders.SourceQueue]));
        }

        Assert.Equal(0u, await queue.CountAsync(queue.Name));
    }

    [Fact]
    public async Task Consumer_PermanentFailure_IsDeadLetteredWithoutRetry()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "permanent");
        using var settled = new Settlements(queue.Name);
        var runs = new CountingHandler();
        await using var host = await ConsumerHost.StartAsync(
            queue,
            runs.Failing(() => new ArgumentException("bad request")),
            dedup: o => o.IsPermanentFailure = ex => ex is ArgumentException,
            consumer: o => o.MaxDeliveryAttempts = 5);

        await queue.PublishAsync("evt_1", "{}");
        await Watchdog.Until(() => settled["dead-letter"] == 1, "dead-lettered");

        Assert.Equal(1, runs.Runs);
        var letter = Assert.Single(await queue.DrainAsync(queue.DeadLetterQueue));
        Assert.Equal(DeadLetterReasons.PermanentFailure, Text(letter.BasicProperties.Headers![JobDedupHeaders.Reason]));
    }

    [Theory]
    [InlineData("missing-key")]
    [InlineData("unreadable-body")]
    [InlineData("oversize")]
    public async Task Consumer_BadInput_IsDeadLetteredAtOnceAndNeverReachesTheHandler(string reason)
    {
        await using var queue = await TestQueue.CreateAsync(broker, reason);
        using var settled = new Settlements(queue.Name);
        var amounts = new ConcurrentQueue<int>();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services
            .AddJobDedup<Payment, string>(queue.Name, o => o.MaxRetryAttempts = 0)
            .UseHandler((payment, _, _) =>
            {
                amounts.Enqueue(payment.Amount);
                return ValueTask.FromResult("ok");
            })
            .AddRabbitMqConsumer(o =>
            {
                o.ConnectionUri = Broker.Uri;
                o.Queue = queue.Name;
                o.MaxMessageBytes = 1024;
            });
        using var host = builder.Build();
        await host.StartAsync().Within();

        switch (reason)
        {
            case "missing-key":
                await queue.PublishAsync(key: null, "{\"amount\":10}");
                break;
            case "unreadable-body":
                await queue.PublishAsync("evt_1", "{ this is not json");
                break;
            default:
                await queue.PublishAsync("evt_1", Encoding.UTF8.GetBytes($"{{\"amount\":1,\"pad\":\"{new string('x', 2048)}\"}}"));
                break;
        }

        await queue.PublishAsync("evt_ok", "{\"amount\":5}");
        await Watchdog.Until(() => settled["dead-letter"] == 1 && settled["ack"] == 1, "bad message dead-lettered, good one acked");
        await host.StopAsync().Within();

        Assert.Equal([5], amounts);
        var letter = Assert.Single(await queue.DrainAsync(queue.DeadLetterQueue));
        Assert.Equal(reason, Text(letter.BasicProperties.Headers![JobDedupHeaders.Reason]));
        Assert.NotEmpty(Text(letter.BasicProperties.Headers![JobDedupHeaders.ExceptionMessage]));
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
    }

    [Fact]
    public async Task Consumer_IsPermanentFailureThrows_TheDeliveryIsStillSettled()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "permanent-throws");
        using var settled = new Settlements(queue.Name);
        var runs = new CountingHandler();
        await using var host = await ConsumerHost.StartAsync(
            queue,
            runs.Failing(() => new TimeoutException("gateway timeout")),
            dedup: o => o.IsPermanentFailure = _ => throw new InvalidOperationException("bug in the classifier"),
            shutdownTimeout: TimeSpan.FromSeconds(2));
        var consumer = Consumers.Of(host);

        await queue.PublishAsync("k-1", "{}");
        await Watchdog.Until(() => runs.Runs >= 1, "the handler ran");

        var settledInTime = await Eventually.HoldsAsync(() => consumer.Pending == 0);
        Assert.True(settledInTime, $"the delivery was never settled: pending {consumer.Pending}, retry {settled["retry"]}, requeue {settled["requeue"]}, dead-letter {settled["dead-letter"]}");
    }

    [Fact]
    public async Task Consumer_KeyHeaderOfTheWrongType_IsDeadLetteredAsInvalidKeyNotKeyedByItsMessageId()
    {
        // Regression: a boolean, table or array key header used to fall back silently to the message id.
        await using var queue = await TestQueue.CreateAsync(broker, "key-type");
        using var settled = new Settlements(queue.Name);
        await using var admin = await Admin.OpenAsync();
        var runs = new CountingHandler();
        await using var host = await ConsumerHost.StartAsync(queue, runs.Answering("ok"));

        await admin.Channel.BasicPublishAsync(string.Empty, queue.Name, mandatory: true, new BasicProperties
        {
            MessageId = "m-1",
            Headers = new Dictionary<string, object?> { [JobDedupHeaders.Key] = true },
        }, Encoding.UTF8.GetBytes("{}"));
        await Watchdog.Until(() => settled["dead-letter"] == 1, "the message dead-lettered");
        await host.StopAsync();

        Assert.Equal(0, runs.Runs);
        var letter = Assert.Single(await queue.DrainAsync(queue.DeadLetterQueue));
        Assert.Equal(DeadLetterReasons.InvalidKey, Text(letter.BasicProperties.Headers![JobDedupHeaders.Reason]));
        Assert.Contains("Boolean", Text(letter.BasicProperties.Headers![JobDedupHeaders.ExceptionMessage]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consumer_JsonKeyWithInvalidUtf8_IsDeadLetteredAsUnreadableBodyNotMissingKey()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "bad-utf8");
        using var settled = new Settlements(queue.Name);
        var runs = new CountingHandler();
        await using var host = await ConsumerHost.StartAsync(
            queue,
            runs.Answering("ok"),
            consumer: o => o.KeyRule = RabbitMqKeyRule.JsonProperty("id"));

        await queue.PublishAsync(key: null, [.. "{\"id\":\"a"u8, 0xFF, 0xFE, .. "b\"}"u8]);
        await Watchdog.Until(() => settled["dead-letter"] == 1, "the message dead-lettered");
        await host.StopAsync();

        Assert.Equal(0, runs.Runs);
        var letter = Assert.Single(await queue.DrainAsync(queue.DeadLetterQueue));
        Assert.Equal(DeadLetterReasons.UnreadableBody, Text(letter.BasicProperties.Headers![JobDedupHeaders.Reason]));
    }

    public sealed record Payment(int Amount);
}
