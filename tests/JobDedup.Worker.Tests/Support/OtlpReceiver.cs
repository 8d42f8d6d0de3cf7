using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace JobDedup.Worker.Tests.Support;

/// <summary>
/// A small OTLP/HTTP collector on 127.0.0.1: it accepts POST /v1/metrics and /v1/traces, keeps each request's content
/// type and body, and answers 200 as a collector does.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(string Path, string? ContentType, byte[] Body)> _requests = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    /// <summary>Gets the collector's base address, as <c>JobDedup:Otlp:Endpoint</c> takes it.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Gets every export received so far.</summary>
    public IReadOnlyList<(string Path, string? ContentType, byte[] Body)> Requests => [.. _requests];

    public static async Task<OtlpReceiver> StartAsync()
    {
        var app = LocalKestrel.Create();
        var receiver = new OtlpReceiver(app);
        foreach (var path in new[] { "/v1/metrics", "/v1/traces" })
        {
            app.MapPost(path, async (HttpContext context) =>
            {
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body, context.RequestAborted);
                receiver._requests.Enqueue((path, context.Request.ContentType, body.ToArray()));

                // An empty Export*ServiceResponse: full success.
                context.Response.ContentType = "application/x-protobuf";
                context.Response.StatusCode = StatusCodes.Status200OK;
            });
        }

        var address = await LocalKestrel.StartAsync(app);
        receiver.Endpoint = address;
        return receiver;
    }

    /// <summary>Tells whether an export to <paramref name="path"/> came as protobuf and holds <paramref name="text"/> as UTF-8 bytes.</summary>
    public bool Received(string path, string text)
    {
        var needle = System.Text.Encoding.UTF8.GetBytes(text);
        return Requests.Any(r => r.Path == path && r.ContentType == "application/x-protobuf" && r.Body.AsSpan().IndexOf(needle) >= 0);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
