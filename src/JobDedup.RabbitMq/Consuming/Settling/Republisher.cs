using System.Globalization;
using JobDedup.RabbitMq.Consuming.Acking;
using JobDedup.RabbitMq.Publishing;
using JobDedup.RabbitMq.Telemetry;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Consuming.Settling;

/// <summary>
/// Publishes the copy of a delivery that a retry, a park or a dead letter needs, with publisher confirms, so that the
/// original is acked only once the copy is safe. A publish that fails is tried again after a growing pause while the
/// delivery stays held, never requeued into a hot loop; a delivery the broker took back meanwhile is not copied.
/// </summary>
/// <remarks>
/// Once the consumer is stopping (<c>stopping</c>), a failed publish is not tried again; a publish in progress goes on
/// until the shutdown time runs out (<c>abandon</c>).
/// </remarks>
internal sealed class Republisher(
    string consumer,
    RepublishRoutes routes,
    ConfirmedChannel publisher,
    TimeProvider timeProvider,
    SettlementMeter meter,
    ILogger logger,
    CancellationToken stopping,
    CancellationToken abandon)
{
    private const int MaxHeaderText = 1000;
    private static readonly TimeSpan FirstPause = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(30);

    /// <summary>Copies a failed delivery to the retry queue of <paramref name="level"/>, as attempt <paramref name="nextAttempt"/>.</summary>
    public Task<RepublishResult> RetryAsync(Delivery delivery, int level, int nextAttempt)
    {
        var headers = CopyHeaders(delivery.Message);
        headers[JobDedupHeaders.Attempt] = (long)nextAttempt;
        Log.RetryScheduled(logger, consumer, delivery.Key ?? string.Empty, nextAttempt - 1, routes.RetryQueues[level], routes.RetryDelays[level]);
        return PublishAsync(delivery, string.Empty, routes.RetryQueues[level], headers, routes.RetryDelays[level], "retry");
    }

    /// <summary>Copies a delivery to the first retry queue without counting an attempt.</summary>
    public Task<RepublishResult> ParkAsync(Delivery delivery)
    {
        var headers = CopyHeaders(delivery.Message);
        headers[JobDedupHeaders.Parked] = (delivery.Message.GetHeaderInt64(JobDedupHeaders.Parked) ?? 0) + 1;
        return PublishAsync(delivery, string.Empty, routes.RetryQueues[0], headers, routes.RetryDelays[0], "park");
    }

    /// <summary>Copies a delivery to the dead-letter exchange, with why in its headers.</summary>
    public Task<RepublishResult> DeadLetterAsync(Delivery delivery, in Settlement settlement)
    {
        var message = delivery.Message;
        var headers = CopyHeaders(message);
        headers[JobDedupHeaders.Reason] = settlement.Reason;
        headers[JobDedupHeaders.Attempt] = (long)message.Attempt;
        headers[JobDedupHeaders.SourceQueue] = routes.SourceQueue;
        headers[JobDedupHeaders.ExceptionType] = settlement.Exception?.GetType().FullName ?? string.Empty;
        headers[JobDedupHeaders.ExceptionMessage] = Truncate(settlement.Exception?.Message ?? settlement.Detail);
        return PublishAsync(delivery, routes.DeadLetterExchange, routes.SourceQueue, headers, expiration: null, "dead-letter");
    }

    /// <summary>Cuts a text to what a header should carry.</summary>
    public static string Truncate(string text) => text.Length <= MaxHeaderText ? text : text[..MaxHeaderText];

    private async Task<RepublishResult> PublishAsync(Delivery delivery, string exchange, string routingKey, Dictionary<string, object?> headers, TimeSpan? expiration, string settlement)
    {
        var properties = CopyProperties(delivery.Message, headers, expiration);
        var pause = FirstPause;
        while (true)
        {
            if (delivery.IsStale)
            {
                return RepublishResult.Stale;
            }

            try
            {
                await publisher.PublishAsync(exchange, routingKey, mandatory: true, properties, delivery.Message.Body, abandon).ConfigureAwait(false);
                return RepublishResult.Published;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                if (stopping.IsCancellationRequested)
                {
                    return RepublishResult.Abandoned;
                }

                meter.Add(SettledAs.Deferred);
                Log.SettleDeferred(logger, consumer, delivery.Key, settlement, pause, ex);
            }

            try
            {
                await Task.Delay(pause, timeProvider, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return RepublishResult.Abandoned;
            }

            pause = pause * 2 < LongestPause ? pause * 2 : LongestPause;
        }
    }

    /// <summary>Every property of the original, with new headers and expiry; the user id is left out (the broker checks it).</summary>
    private static BasicProperties CopyProperties(RabbitMqMessage message, Dictionary<string, object?> headers, TimeSpan? expiration)
    {
        var properties = message.Properties is { } original ? new BasicProperties(original) : new BasicProperties();
        properties.Headers = headers;
        properties.Persistent = true;
        properties.UserId = null;
        properties.Expiration = expiration is { } ttl ? ((long)ttl.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) : null;
        return properties;
    }

    private Dictionary<string, object?> CopyHeaders(RabbitMqMessage message)
    {
        var headers = new Dictionary<string, object?>(message.Headers, StringComparer.Ordinal);
        if (!headers.ContainsKey(JobDedupHeaders.FirstSeen))
        {
            headers[JobDedupHeaders.FirstSeen] = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        }

        return headers;
    }
}
