using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace JobDedup.AspNetCore.Responses;

/// <summary>Writes a kept or shared response, and the problem details of the idempotency layer's own answers.</summary>
internal static class ResponseWriter
{
    /// <summary>Sends a response produced for another request with this key, marked as replayed.</summary>
    public static async Task ReplayAsync(HttpContext context, IdempotentResponse response, string replayedHeader)
    {
        var http = context.Response;
        http.StatusCode = response.StatusCode;
        foreach (var (name, values) in response.Headers)
        {
            http.Headers[name] = new StringValues(values);
        }

        http.Headers[replayedHeader] = "true";
        await WriteBodyAsync(context, response.Body).ConfigureAwait(false);
    }

    /// <summary>Sends the body of this request's own run (its status and headers are already on the response).</summary>
    public static Task WriteBodyAsync(HttpContext context, byte[] body)
    {
        if (body.Length == 0)
        {
            return Task.CompletedTask;
        }

        context.Response.ContentLength = body.Length;
        var written = context.Response.BodyWriter.WriteAsync(body, context.RequestAborted);
        return written.IsCompletedSuccessfully ? Task.CompletedTask : written.AsTask();
    }

    /// <summary>Sends a problem details response.</summary>
    public static Task ProblemAsync(HttpContext context, int statusCode, string title, string detail, IDictionary<string, object?>? extensions = null)
    {
        return TypedResults.Problem(detail: detail, statusCode: statusCode, title: title, extensions: extensions).ExecuteAsync(context);
    }
}
