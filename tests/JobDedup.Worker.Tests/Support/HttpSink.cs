using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace JobDedup.Worker.Tests.Support;

/// <summary>
/// An HTTP endpoint on 127.0.0.1 that counts the worker's calls per dedupe key (its percent-encoded Idempotency-Key
/// header, decoded) and answers as the test says
/// (by default 200 with a body naming the key).
/// </summary>
public sealed class HttpSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _calls = new();
    private readonly ConcurrentDictionary<string, string> _fencingTokens = new();

    private HttpSink(WebApplication app) => _app = app;

    public Func<string, int, CancellationToken, Task<(int Status, string Body)>> Respond { get; set; } =
        (key, _, _) => Task.FromResult((200, $"handled {key}"));

    public IReadOnlyDictionary<string, int> Calls => _calls;

    /// <summary>Gets the fencing-token header of the last call per key (empty when the call had none).</summary>
    public IReadOnlyDictionary<string, string> FencingTokens => _fencingTokens;

    /// <summary>Gets every request: its path, its key, when it came in and when its answer went out (or it was aborted).</summary>
    public ConcurrentBag<(string Path, string Key, long Started, long Ended)> Requests { get; } = [];

    public int TotalCalls => _calls.Values.Sum();

    public Uri Url { get; private set; } = null!;

    public static async Task<HttpSink> StartAsync()
    {
        var app = LocalKestrel.Create();
        var sink = new HttpSink(app);
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            var key = Uri.UnescapeDataString(context.Request.Headers["Idempotency-Key"].ToString());
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                var call = sink._calls.AddOrUpdate(key, 1, (_, n) => n + 1);
                sink._fencingTokens[key] = context.Request.Headers["JobDedup-Fencing-Token"].ToString();
                var (status, body) = await sink.Respond(key, call, context.RequestAborted);
                context.Response.StatusCode = status;
                await context.Response.WriteAsync(body, context.RequestAborted);
            }
            finally
            {
                sink.Requests.Add((context.Request.Path.Value ?? string.Empty, key, started, System.Diagnostics.Stopwatch.GetTimestamp()));
            }
        });
        var address = await LocalKestrel.StartAsync(app);
        sink.Url = new Uri(address, "/webhooks");
        return sink;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
