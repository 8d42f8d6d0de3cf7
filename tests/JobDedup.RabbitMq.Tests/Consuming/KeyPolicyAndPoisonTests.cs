using System.Text;
using Microsoft.Extensions.Options;
using static JobDedup.RabbitMq.Tests.Support.HeaderValues;

namespace JobDedup.RabbitMq.Tests.Consuming;

/// <summary>The engine's key policy at the consumer's intake, one failure classification, and the handler-runs bound, on the broker.</summary>
[Collection(BrokerCollection.Name)]
public sealed class KeyPolicyAndPoisonTests(Broker broker)
{
    [Theory]
    [InlineData("j\r\nX-Evil: 1\u0000", "U+000D")]
    [InlineData("tab\tkey", "U+0009")]
    [InlineData("line\u2028break", "U+2028")]
    public async Task Consumer_KeyRefusedByTheKeyPolicy_IsDeadLetteredAsInvalidKeyAtOnceWithoutRunningTheHandler(string key, string codePoint)
    {
        await using var queue = await TestQueue.CreateAsync(broker, "invalid-key");
        using var settled = new Settlements(queue.Name);
        var runs = new CountingHandler();
        await using var host = await ConsumerHost.StartAsync(
            queue,
            runs.Answering("ok"),
            consumer: o => o.KeyRule = RabbitMqKeyRule.JsonProperty("id"));

        await queue.PublishAsync(key: null, JsonId(key));
        await queue.PublishAsync(key: null, JsonId("café-ключ-✓"));
        await Watchdog.Until(() => settled["dead-letter"] == 1 && settled["ack"] == 1, "the bad key dead-lettered, the good one acked");
        await host.StopAsync();

        Assert.Equal(1, runs.Runs);
        Assert.Equal(0, settled["retry"]);
        var letter = Assert.Single(await queue.DrainAsync(queue.DeadLetterQueue));
        var headers = letter.BasicProperties.Headers!;
        Assert.Equal(DeadLetterReasons.InvalidKey, Text(headers[JobDedupHeaders.Reason]));
        var detail = Text(headers[JobDedupHeaders.ExceptionMessage]);
        Assert.Contains(codePoint, detail, StringComparison.Ordinal);
        Assert.DoesNotContain("X-Evil", detail, StringComparison.Ordinal);
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
    }

    [Fact]
    public async Task Consumer_KeyOverTheDeduplicatorsMaxKeyBytes_IsDeadLetteredAsInvalidKey()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "long-key");
        using var settled = new Settlements(queue.Name);
        var runs = new CountingHandler();
        await using var host = await ConsumerHost.StartAsync(
            queue,
            runs.Answering("ok"),
            dedup: o => o.MaxKeyBytes = 64);

        await queue.PublishAsync(new string('k', 65), "{}");
        await Watchdog.Until(() => settled["dead-letter"] == 1, "the long key dead-lettered");
        await host.StopAsync();

        Assert.Equal(0, runs.Runs);
        var letter = Assert.Single(await queue.DrainAsync(queue.DeadLetterQueue));
        Assert.Equal(DeadLetterReasons.InvalidKey, Text(letter.BasicProperties.Headers![JobDedupHeaders.Reason]));
        Assert.Contains("65 UTF-8 bytes", Text(letter.BasicProperties.Headers![JobDedupHeaders.ExceptionMessage]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consumer_PoisonKeyWithTheDefaults_RunsTheHandlerSixTimesThenDeadLettersIt()
    {
        // The defaults: 2 in-process attempts (MaxRetryAttempts 1) times 3 deliveries = MaxHandlerRunsPerMessage 6.
        var defaults = new JobDedupOptions<RabbitMqMessage>();
        var (runs, retries, letter) = await RunUntilDeadLetteredAsync(
            "poison",
            new InvalidOperationException("downstream keeps failing"),
            o => o.MaxRetryAttempts = defaults.MaxRetryAttempts);

        Assert.Equal(6, runs);
        Assert.Equal(6, new RabbitMqConsumerOptions<RabbitMqMessage, string>().MaxHandlerRunsPerMessage);
        Assert.Equal(2, retries);
        Assert.Equal(DeadLetterReasons.HandlerFailed, Text(letter.BasicProperties.Headers![JobDedupHeaders.Reason]));
        Assert.Equal(3L, letter.BasicProperties.Headers![JobDedupHeaders.Attempt]);
    }

    [Fact]
    public async Task Consumer_PermanentFailureByTheDefaultClassification_RunsOnceAndIsDeadLetteredWithoutAnyRetry()
    {
        var (runs, retries, letter) = await RunUntilDeadLetteredAsync("permanent-default", new FormatException("the order cannot be read"));

        Assert.Equal(1, runs);
        Assert.Equal(0, retries);
        Assert.Equal(DeadLetterReasons.PermanentFailure, Text(letter.BasicProperties.Headers![JobDedupHeaders.Reason]));
    }

    [Fact]
    public async Task Consumer_ObsoleteConsumerIsPermanentFailure_MovesToTheDeduplicatorSoNeitherLayerRetries()
    {
        var (runs, retries, letter) = await RunUntilDeadLetteredAsync(
            "permanent-legacy",
            new TimeoutException("treated as permanent by this application"),
#pragma warning disable CS0618 // the obsolete setting is what this test checks
            consumer: o => o.IsPermanentFailure = ex => ex is TimeoutException);
#pragma warning restore CS0618

        Assert.Equal(1, runs);
        Assert.Equal(0, retries);
        Assert.Equal(DeadLetterReasons.PermanentFailure, Text(letter.BasicProperties.Headers![JobDedupHeaders.Reason]));
    }

    [Fact]
    public async Task Start_IsPermanentFailureOnBothLayers_FailsNamingTheSetting()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "permanent-both");
        using var host = ConsumerHost.Build(
            queue,
            (_, _, _) => ValueTask.FromResult("ok"),
            dedup: o => o.IsPermanentFailure = ex => ex is TimeoutException,
#pragma warning disable CS0618 // the obsolete setting is what this test checks
            consumer: o => o.IsPermanentFailure = ex => ex is ArgumentException);
#pragma warning restore CS0618

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().Within());

        Assert.Contains("IsPermanentFailure is set both on the deduplicator and on its RabbitMQ consumer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_AttemptsTimesDeliveriesOverMaxHandlerRunsPerMessage_FailsNamingTheSettings()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "runs-bound");
        using var host = ConsumerHost.Build(
            queue,
            (_, _, _) => ValueTask.FromResult("ok"),
            dedup: o => o.MaxRetryAttempts = 2,
            consumer: o => o.MaxDeliveryAttempts = 5);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().Within());

        Assert.Contains("15 times", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxDeliveryAttempts (5)", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxHandlerRunsPerMessage (6)", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Publishes one message whose handler always throws <paramref name="failure"/>, until it is dead-lettered.</summary>
    private async Task<(int Runs, long Retries, RabbitMQ.Client.BasicGetResult Letter)> RunUntilDeadLetteredAsync(
        string test,
        Exception failure,
        Action<JobDedupOptions<RabbitMqMessage>>? dedup = null,
        Action<RabbitMqConsumerOptions<RabbitMqMessage, string>>? consumer = null)
    {
        await using var queue = await TestQueue.CreateAsync(broker, test);
        using var settled = new Settlements(queue.Name);
        var runs = 0;
        await using var host = await ConsumerHost.StartAsync(
            queue,
            (_, _, _) =>
            {
                Interlocked.Increment(ref runs);
                throw failure;
            },
            dedup: o =>
            {
                o.MaxRetryAttempts = 1;
                o.RetryDelay = TimeSpan.FromMilliseconds(10);
                dedup?.Invoke(o);
            },
            consumer: consumer);

        await queue.PublishAsync($"{test}-1", "{}");
        await Watchdog.Until(() => settled["dead-letter"] == 1, "the message dead-lettered");
        await host.StopAsync();

        var letter = Assert.Single(await queue.DrainAsync(queue.DeadLetterQueue));
        return (Volatile.Read(ref runs), settled["retry"], letter);
    }

    private static byte[] JsonId(string id) => Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new { id }));
}
