using System.Globalization;
using System.Net.Http.Headers;
using JobDedup.RabbitMq;

namespace JobDedup.Worker.Handlers;

/// <summary>
/// POSTs the message body (and chosen headers) to a URL, once per key. A 2xx answer is success and its body is the
/// outcome; 5xx, 408, 429 and timeouts are worth another try; any other 4xx is a permanent failure.
/// </summary>
/// <param name="client">The client requests go through.</param>
/// <param name="url">Where the body is POSTed.</param>
/// <param name="forwardHeaders">The message headers copied onto the request.</param>
/// <param name="fencingTokenHeader">
/// The header carrying the claim's fencing token when the pipeline keeps claims in a shared store (so that the endpoint
/// can refuse a write older than one it already took for the key); empty leaves it out.
/// </param>
internal sealed class HttpForwardHandler(HttpClient client, Uri url, IReadOnlyList<string> forwardHeaders, string fencingTokenHeader) : IJobHandler<RabbitMqMessage, byte[]>
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
        if (fencingTokenHeader.Length > 0 && context.FencingToken is { } token)
        {
            request.Headers.Add(fencingTokenHeader, token.ToString(CultureInfo.InvariantCulture));
        }

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
