using JobDedup.RabbitMq;
using RabbitMQ.Client;

namespace JobDedup.Worker.Cli;

/// <summary>
/// The copy of a dead letter that a replay publishes: every property of the original, its key in the key header (so
/// the dedupe window decides whether it runs again), and none of the dead-letter headers, so it starts again at
/// attempt 1 with the consumer's full set of retries.
/// </summary>
/// <param name="Exchange">The exchange it goes to: the default one, or a partitioned queue's consistent-hash exchange.</param>
/// <param name="RoutingKey">The work queue, or empty for the consistent-hash exchange (it hashes the key header).</param>
/// <param name="Properties">The copy's properties.</param>
internal sealed record ReplayCopy(string Exchange, string RoutingKey, BasicProperties Properties)
{
    /// <summary>Counts how often a message was replayed from its dead-letter queue.</summary>
    public const string ReplaysHeader = "x-jobdedup-replays";

    private static readonly string[] DeadLetterHeaders =
    [
        JobDedupHeaders.Reason,
        JobDedupHeaders.Attempt,
        JobDedupHeaders.SourceQueue,
        JobDedupHeaders.ExceptionType,
        JobDedupHeaders.ExceptionMessage,
    ];

    /// <summary>Builds the copy of <paramref name="deadLetter"/> for the work queue in <paramref name="settings"/>.</summary>
    public static ReplayCopy For(DeadLetter deadLetter, ToolSettings settings)
    {
        var headers = deadLetter.Properties.Headers is { } original
            ? new Dictionary<string, object?>(original, StringComparer.Ordinal)
            : new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var name in DeadLetterHeaders)
        {
            headers.Remove(name);
        }

        if (deadLetter.Key is { } key)
        {
            headers[JobDedupHeaders.Key] = key;
        }

        headers[ReplaysHeader] = (long.TryParse(deadLetter.Message.GetHeader(ReplaysHeader), System.Globalization.CultureInfo.InvariantCulture, out var replays) ? replays : 0) + 1;
        var properties = new BasicProperties(deadLetter.Properties)
        {
            Headers = headers,
            Persistent = true,
            Expiration = null,
            UserId = null,
        };
        return settings.Partitions > 0
            ? new ReplayCopy($"{settings.Queue}.partitions", string.Empty, properties)
            : new ReplayCopy(string.Empty, settings.Queue, properties);
    }
}
