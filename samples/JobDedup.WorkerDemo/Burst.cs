using System.Diagnostics;
using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace JobDedup.WorkerDemo;

/// <summary>What one run of the burst measured.</summary>
internal sealed record BurstResult(
    string Mode,
    int Published,
    int Answered,
    int Acked,
    uint DeadLettered,
    uint LeftInQueue,
    IReadOnlyDictionary<string, int> CallsPerEvent,
    TimeSpan Elapsed,
    int WorkerExitCode);

/// <summary>
/// One run: a fresh queue holding a burst of payment webhooks with many copies of each event (as a provider
/// redelivers), then the worker started on it; every message's reply is counted, so the run ends when each message is
/// settled. The time runs from the worker's first delivery to the last reply.
/// </summary>
internal static class Burst
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public static async Task<BurstResult> RunAsync(string workerDll, Uri broker, Sink sink, bool deduplicate, int messages, int events)
    {
        var mode = deduplicate ? "deduplication on" : "deduplication off";
        var queue = $"jobdedup-demo.{(deduplicate ? "on" : "off")}.{Guid.NewGuid().ToString("N")[..8]}";
        var factory = new ConnectionFactory { Uri = broker, ClientProvidedName = "jobdedup-demo" };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var replies = (await channel.QueueDeclareAsync($"{queue}.replies", durable: false, exclusive: true, autoDelete: true)).QueueName;

        var environment = new Dictionary<string, string>
        {
            ["JobDedup__RabbitMq__Uri"] = broker.ToString(),
            ["JobDedup__ShutdownTimeout"] = "00:00:05",
            ["JobDedup__Pipelines__payments__Queue"] = queue,
            ["JobDedup__Pipelines__payments__Key__Source"] = "JsonProperty",
            ["JobDedup__Pipelines__payments__Key__Name"] = "id",
            ["JobDedup__Pipelines__payments__Deduplicate"] = deduplicate ? "true" : "false",
            ["JobDedup__Pipelines__payments__DedupeWindow"] = deduplicate ? "00:10:00" : "00:00:00",
            ["JobDedup__Pipelines__payments__Handler__Url"] = sink.Url.ToString(),
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__JobDedup.RabbitMq"] = "Information",
        };
        // The work queue as the worker declares it, so the burst can wait in it before the worker starts.
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-queue-type"] = "classic" });
        await PublishAsync(channel, queue, replies, mode, messages, events);

        var answered = 0;
        var acked = 0;
        var allAnswered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, args) =>
        {
            if (args.BasicProperties.Headers?.TryGetValue("x-jobdedup-status", out var status) == true
                && status is byte[] text && Encoding.UTF8.GetString(text) == "Succeeded")
            {
                Interlocked.Increment(ref acked);
            }

            if (Interlocked.Increment(ref answered) == messages)
            {
                allAnswered.TrySetResult();
            }

            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(replies, autoAck: true, consumer);

        Console.WriteLine($"  [{mode}] starting the worker on queue {queue}");
        sink.TakeCalls();
        await using var worker = Worker.Start(workerDll, environment);
        try
        {
            await worker.WaitUntilConsumingAsync(Limit);
            var clock = Stopwatch.StartNew();
            var shown = 0;
            while (!allAnswered.Task.IsCompleted)
            {
                await Task.WhenAny(allAnswered.Task, Task.Delay(250)).WaitAsync(Limit);

                // Progress only when it moved: no line of zeros while the worker warms up.
                var now = Volatile.Read(ref answered);
                if (now > shown)
                {
                    shown = now;
                    Console.WriteLine($"  [{mode}] answered {now:N0} of {messages:N0}");
                }
            }

            var elapsed = clock.Elapsed;
            var exit = await worker.StopAsync(Limit);
            var left = (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
            var dead = (await channel.QueueDeclarePassiveAsync($"{queue}.dead")).MessageCount;
            return new BurstResult(mode, messages, Volatile.Read(ref answered), Volatile.Read(ref acked), dead, left, sink.TakeCalls(), elapsed, exit);
        }
        catch
        {
            Console.Error.WriteLine(worker.Output);
            throw;
        }
        finally
        {
            await DeleteAsync(channel, queue);
        }
    }

    private static async Task PublishAsync(IChannel channel, string queue, string replies, string mode, int messages, int events)
    {
        // Copies of each event in random order, as a provider's redeliveries arrive; confirmed in batches.
        var order = Enumerable.Range(0, messages).OrderBy(_ => Random.Shared.Next()).ToArray();
        const int Batch = 100;
        for (var first = 0; first < messages; first += Batch)
        {
            var batch = order.Skip(first).Take(Batch).Select(i =>
            {
                var id = $"evt_{i % events:D2}";
                var body = Encoding.UTF8.GetBytes($"{{\"id\":\"{id}\",\"type\":\"payment_intent.succeeded\",\"amount\":{1000 + (i % events)},\"currency\":\"eur\",\"copy\":{i}}}");
                var properties = new BasicProperties
                {
                    MessageId = $"{id}-copy-{i}",
                    CorrelationId = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ReplyTo = replies,
                    ContentType = "application/json",
                    Persistent = true,
                };
                return channel.BasicPublishAsync(string.Empty, queue, mandatory: true, properties, body).AsTask();
            });
            await Task.WhenAll(batch);
        }

        Console.WriteLine($"  [{mode}] published {messages:N0} webhooks to queue {queue}, with confirms");
    }

    private static async Task DeleteAsync(IChannel channel, string queue)
    {
        foreach (var name in new[] { queue, $"{queue}.retry.1", $"{queue}.retry.2", $"{queue}.retry.3", $"{queue}.dead" })
        {
            await channel.QueueDeleteAsync(name, ifUnused: false, ifEmpty: false);
        }

        await channel.ExchangeDeleteAsync($"{queue}.dead-letter", ifUnused: false);
    }
}
