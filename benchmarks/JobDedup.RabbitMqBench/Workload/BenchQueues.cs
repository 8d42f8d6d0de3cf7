using System.Diagnostics;
using System.Text;
using JobDedup.RabbitMqBench.Measuring;
using RabbitMQ.Client;

namespace JobDedup.RabbitMqBench.Workload;

/// <summary>
/// The broker side of a run: a fresh queue filled with the run's messages before any consumer starts (publishing is
/// not measured), the check that it ended empty, and the deletion of everything a run declared.
/// </summary>
internal sealed class BenchQueues : IAsyncDisposable
{
    /// <summary>Every benchmark queue starts with this, so leftovers of an interrupted run are recognisable.</summary>
    public const string Prefix = "jobdedup-bench.";

    private const int Batch = 5_000;

    private readonly IConnection _connection;
    private readonly HashSet<string> _declared = new(StringComparer.Ordinal);

    private BenchQueues(IConnection connection) => _connection = connection;

    public IDictionary<string, object?> ServerProperties => _connection.ServerProperties!;

    public static async Task<BenchQueues> ConnectAsync(string uri, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = new Uri(uri), ClientProvidedName = "jobdedup-bench:admin", AutomaticRecoveryEnabled = false };
        try
        {
            return new BenchQueues(await factory.CreateConnectionAsync(cancellationToken));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new InvalidOperationException($"No RabbitMQ broker answers at {Redact(uri)} ({ex.Message}). Start one with: scripts/rabbitmq.sh start", ex);
        }
    }

    public string ServerVersion => Property("product") + " " + Property("version") + " (" + Property("platform") + ")";

    /// <summary>Deletes the queue and what a consumer may have declared beside it, declares it anew and fills it.</summary>
    /// <returns>How long publishing took.</returns>
    public async Task<TimeSpan> FillAsync(string queue, IDictionary<string, object?>? arguments, MessageSet messages, Progress progress, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await DeleteAsync(queue, cancellationToken);
        _declared.Add(queue);
        var started = Stopwatch.GetTimestamp();
        var options = new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: false);
        await using var channel = await _connection.CreateChannelAsync(options, cancellationToken);
        var confirms = new ConfirmTracker(channel);
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments, cancellationToken: cancellationToken);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var published = 0L;
        using var reporter = progress.Start($"publishing {messages.Count:N0} messages to {queue}", messages.Count, () => Volatile.Read(ref published), "published");
        // Publishes are numbered on the channel one by one from here; a batch is confirmed when its last number is.
        var sequence = await channel.GetNextPublishSequenceNumberAsync(deadline.Token);
        for (var index = 0L; index < messages.Count;)
        {
            var end = Math.Min(messages.Count, index + Batch);
            for (; index < end; index++, sequence++)
            {
                var key = messages.KeyOf(index);
                var properties = new BasicProperties { MessageId = key, ContentType = "application/json", DeliveryMode = DeliveryModes.Transient };
                await channel.BasicPublishAsync(string.Empty, queue, mandatory: true, properties, messages.BodyOf(index, key), deadline.Token);
            }

            await confirms.WaitForAsync(sequence - 1, timeout, deadline.Token);
            Volatile.Write(ref published, index);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var ready = await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
        if (ready.MessageCount != (uint)messages.Count)
        {
            throw new InvalidOperationException($"Queue {queue} holds {ready.MessageCount:N0} messages after publishing {messages.Count:N0}.");
        }

        return elapsed;
    }

    /// <summary>The messages ready in the queue and its consumers, once the consumer has stopped.</summary>
    public async Task<(uint Messages, uint Consumers)> CountAsync(string queue, CancellationToken cancellationToken)
    {
        await using var channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var ok = await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
        return (ok.MessageCount, ok.ConsumerCount);
    }

    /// <summary>Deletes a queue with the retry queues, dead-letter queue and exchanges the JobDedup and MassTransit consumers declare.</summary>
    public async Task DeleteAsync(string queue, CancellationToken cancellationToken)
    {
        await using var channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
        foreach (var name in new[] { queue, $"{queue}.retry.1", $"{queue}.retry.2", $"{queue}.retry.3", $"{queue}.dead" })
        {
            await channel.QueueDeleteAsync(name, ifUnused: false, ifEmpty: false, cancellationToken: cancellationToken);
        }

        // Deleting an exchange that does not exist succeeds on RabbitMQ.
        foreach (var name in new[] { queue, $"{queue}.dead-letter" })
        {
            await channel.ExchangeDeleteAsync(name, ifUnused: false, cancellationToken: cancellationToken);
        }

        _declared.Remove(queue);
    }

    /// <summary>Deletes every queue declared here that is still there.</summary>
    public async Task DeleteAllAsync()
    {
        foreach (var queue in _declared.ToArray())
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await DeleteAsync(queue, timeout.Token);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Console.Error.WriteLine($"could not delete benchmark queue {queue}: {ex.Message}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DeleteAllAsync();
        await _connection.CloseAsync(TimeSpan.FromSeconds(5));
        _connection.Dispose();
    }

    public static string Redact(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.UserInfo.Length > 0
            ? new UriBuilder(parsed) { Password = parsed.UserInfo.Contains(':', StringComparison.Ordinal) ? "***" : string.Empty }.Uri.ToString()
            : uri;

    private string Property(string name) => Text(ServerProperties.TryGetValue(name, out var value) ? value : null);

    private static string Text(object? value) => value switch
    {
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        null => "?",
        _ => value.ToString() ?? "?",
    };
}
