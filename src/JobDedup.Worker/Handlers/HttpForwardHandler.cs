using System.Globalization;
using System.Net.Http.Headers;
using JobDedup.RabbitMq;
using JobDedup.Worker.Settings;

namespace JobDedup.Worker.Handlers;

/// <summary>
/// POSTs the message body (and chosen headers) to a URL, once per key, with the key as an idempotency key header.
/// A 2xx answer is success and its body is the outcome. The client's resilience handler has already retried 408, 429
/// and 5xx answers (after their <c>Retry-After</c>), timeouts and connection failures when one reaches this handler:
/// those fail as transient (the message comes back later); any other 4xx, and a header that cannot be sent, fail as
/// permanent and are never retried.
/// </summary>
internal sealed class HttpForwardHandler(HttpClient client, Uri url, IReadOnlyList<string> forwardHeaders, HttpHeaderSettings headers)
    : IJobHandler<RabbitMqMessage, byte[]>
{
    public async ValueTask<byte[]> HandleAsync(RabbitMqMessage job, JobContext context, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new ReadOnlyMemoryContent(job.Body),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.TryParse(job.ContentType, out var type)
            ? type
            : new MediaTypeHeaderValue("application/json");

        // Added with validation, and only values that cannot carry a line break: no header can be injected.
        if (headers.IdempotencyKey is { Length: > 0 } keyHeader)
        {
            request.Headers.Add(keyHeader, HeaderText.EncodeKey(context.Key));
        }

        if (headers.Attempt is { Length: > 0 } attemptHeader)
        {
            request.Headers.Add(attemptHeader, context.Attempt.ToString(CultureInfo.InvariantCulture));
        }

        // Only with a shared (claiming) store is there a token: it grows with every claim on the key, on any worker.
        if (headers.FencingToken is { Length: > 0 } fencingHeader && context.FencingToken is { } token)
        {
            request.Headers.Add(fencingHeader, token.ToString(CultureInfo.InvariantCulture));
        }

        foreach (var name in forwardHeaders)
        {
            if (job.GetHeader(name) is not { } value)
            {
                continue;
            }

            if (!HeaderText.IsSafeValue(value))
            {
                throw new HttpPermanentFailureException(
                    $"The message header '{name}' holds characters an HTTP header cannot carry (a control character or non-ASCII text); the request was not sent.");
            }

            request.Headers.Add(name, value);
        }

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }

        var status = (int)response.StatusCode;
        var what = $"{url} answered {status} {response.ReasonPhrase}";
        if (status is 408 or 429 or >= 500)
        {
            throw new HttpRequestException(what, null, response.StatusCode);
        }

        throw new HttpPermanentFailureException(what, response.StatusCode);
    }
}
