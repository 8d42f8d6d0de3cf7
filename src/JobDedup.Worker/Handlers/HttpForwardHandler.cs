using System.Globalization;
using System.Net.Http.Headers;
using JobDedup.RabbitMq;

namespace JobDedup.Worker.Handlers;

/// <summary>
/// POSTs the message body (and chosen headers) to a URL, once per key. A 2xx answer is success and its body is the
/// outcome; 5xx, 408, 429 and timeouts are worth another try; any other 4xx is a permanent failure.
/// </summary>
internal sealed class HttpForwardHandler(HttpClient client, Uri url, IReadOnlyList<string> forwardHeaders) : IJobHandler<RabbitMqMessage, byte[]>
{
    public const string KeyHeader = "X-Dedupe-Key";
    public const string AttemptHeader = "X-JobDedup-Attempt";

    public async ValueTask<byte[]> HandleAsync(RabbitMqMessage job, JobContext context, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new ReadOnlyMemoryContent(job.Body),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.TryParse(job.ContentType, out var type)
            ? type
            : new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation(KeyHeader, context.Key);
        request.Headers.TryAddWithoutValidation(AttemptHeader, context.Attempt.ToString(CultureInfo.InvariantCulture));
        foreach (var name in forwardHeaders)
        {
            if (job.GetHeader(name) is { } value)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
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
