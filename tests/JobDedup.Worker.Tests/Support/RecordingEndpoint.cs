using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace JobDedup.Worker.Tests.Support;

/// <summary>A Kestrel endpoint on 127.0.0.1 that records every request's headers as they arrived, and answers as the test says.</summary>
public sealed class RecordingEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Dictionary<string, string>> _requests = new();

    private RecordingEndpoint(WebApplication app) => _app = app;

    /// <summary>Gets or sets the answer to the n-th request (1 for the first): status and extra response headers.</summary>
    public Func<int, (int Status, Dictionary<string, string> Headers)> Respond { get; set; } = _ => (200, []);

    /// <summary>Gets the requests so far, each as its headers (names in lower case; repeated ones joined by commas).</summary>
    public IReadOnlyList<Dictionary<string, string>> Requests => [.. _requests];

    public int Count => _requests.Count;

    /// <summary>Gets or sets how long each request waits before it is answered (a slow endpoint); none by default.</summary>
    public TimeSpan Hold { get; set; }

    public Uri Url { get; private set; } = null!;

    public static async Task<RecordingEndpoint> StartAsync()
    {
        var app = LocalKestrel.Create();
        var endpoint = new RecordingEndpoint(app);
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            endpoint._requests.Enqueue(headers);
            if (endpoint.Hold > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(endpoint.Hold, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return; // the client gave up
                }
            }

            var (status, extra) = endpoint.Respond(endpoint._requests.Count);
            foreach (var (name, value) in extra)
            {
                context.Response.Headers[name] = value;
            }

            context.Response.StatusCode = status;
            await context.Response.WriteAsync($"answer {endpoint._requests.Count}", context.RequestAborted);
        });
        var address = await LocalKestrel.StartAsync(app);
        endpoint.Url = new Uri(address, "/hooks");
        return endpoint;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
