using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace JobDedup.WorkerDemo;

/// <summary>
/// Stands in for the payment service the worker calls: it takes 20 ms per call, like a real charge, and counts the
/// calls per event id.
/// </summary>
internal sealed class Sink : IAsyncDisposable
{
    private static readonly TimeSpan CallTime = TimeSpan.FromMilliseconds(20);
    private readonly WebApplication _app;
    private ConcurrentDictionary<string, int> _calls = new();

    private Sink(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public static async Task<Sink> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var sink = new Sink(app);
        app.MapPost("/charges", async (HttpContext context) =>
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var id = body.RootElement.GetProperty("id").GetString() ?? "?";
            var call = sink._calls.AddOrUpdate(id, 1, (_, n) => n + 1);
            await Task.Delay(CallTime, context.RequestAborted);
            return Results.Ok(new { charge = $"ch_{id}", call });
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        sink.Url = new Uri(new Uri(address), "/charges");
        return sink;
    }

    /// <summary>Returns the calls counted so far and starts a new count.</summary>
    public IReadOnlyDictionary<string, int> TakeCalls() => Interlocked.Exchange(ref _calls, new ConcurrentDictionary<string, int>());

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
