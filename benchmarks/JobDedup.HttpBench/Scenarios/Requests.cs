using System.Net.Http.Headers;
using System.Text;
using JobDedup.HttpBench.Server;

namespace JobDedup.HttpBench.Scenarios;

/// <summary>The POSTs the scenarios send: a small JSON payment, with or without a key.</summary>
internal static class Requests
{
    /// <summary>The payment every POST with a body carries.</summary>
    public static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"amount":4999,"currency":"EUR"}""");
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>A POST of the payment body to <paramref name="path"/>, carrying <paramref name="key"/> when given.</summary>
    public static HttpRequestMessage Post(string path, string? key) => Post(path, key, withBody: true);

    /// <summary>A POST to <paramref name="path"/>, with the payment body or none, carrying <paramref name="key"/> when given.</summary>
    public static HttpRequestMessage Post(string path, string? key, bool withBody)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (withBody)
        {
            request.Content = new ByteArrayContent(Body);
            request.Content.Headers.ContentType = Json;
        }

        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation(BenchServer.KeyHeader, key);
        }

        return request;
    }
}
