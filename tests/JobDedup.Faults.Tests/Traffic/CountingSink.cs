using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace JobDedup.Faults.Tests.Traffic;

/// <summary>
/// The downstream service the workers' HTTP handler posts to, on 127.0.0.1: it records every request (one handler run)
/// by the key in its body, answers 200 unless the case says otherwise, and can hold requests open so that a fault hits
/// while handlers are in flight.
/// </summary>
internal sealed class CountingSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<SinkRun> _runs = new();
    private readonly ConcurrentDictionary<SinkRun, byte> _heldRuns = new();
    private readonly Stopwatch _clock;
    private TaskCompletionSource _release = NewGate();
    private int _passBeforeHold = int.MaxValue;
    private int _requests;
    private int _held;

    private CountingSink(WebApplication app, Stopwatch clock)
    {
        _app = app;
        _clock = clock;
    }

    /// <summary>Gets or sets the status answered for a key; 200 by default.</summary>
    public Func<string, int> StatusFor { get; set; } = static _ => 200;

    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyCollection<SinkRun> Runs => _runs;

    /// <summary>Gets how many requests are held open right now.</summary>
    public int Held => Volatile.Read(ref _held);

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Gets the requests held open right now.</summary>
    public IReadOnlyList<SinkRun> HeldRuns => [.. _heldRuns.Keys];

    public static async Task<CountingSink> StartAsync(Stopwatch clock)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(o => o.Limits.MaxRequestHeadersTotalSize = 256 * 1024);
        var app = builder.Build();
        var sink = new CountingSink(app, clock);
        app.MapPost("/{worker}", sink.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        sink.BaseUrl = new Uri(address);
        return sink;
    }

    /// <summary>The URL a worker posts to; its name is recorded with each run.</summary>
    public string UrlFor(string worker) => new Uri(BaseUrl, "/" + worker).ToString();

    /// <summary>Lets the first <paramref name="passed"/> requests through (counted from now), then holds every later one until <see cref="Release"/>.</summary>
    public void HoldAfter(int passed)
    {
        _release = NewGate();
        Volatile.Write(ref _passBeforeHold, Requests + passed);
    }

    /// <summary>Answers every held request and holds nothing more.</summary>
    public void Release()
    {
        Volatile.Write(ref _passBeforeHold, int.MaxValue);
        _release.TrySetResult();
    }

    public Dictionary<string, int> RunsPerKey() =>
        _runs.GroupBy(r => r.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static string KeyOf(byte[] body, HttpRequest request)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
            {
                return id.GetString()!;
            }
        }
        catch (JsonException)
        {
        }

        return "(no id) " + request.Headers["X-Dedupe-Key"];
    }

    private async Task HandleAsync(HttpContext context, string worker)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal);
        var run = new SinkRun(KeyOf(body, context.Request), worker, headers, _clock.Elapsed);
        _runs.Enqueue(run);
        var number = Interlocked.Increment(ref _requests);
        if (number > Volatile.Read(ref _passBeforeHold))
        {
            var gate = _release.Task;
            _heldRuns.TryAdd(run, 0);
            Interlocked.Increment(ref _held);
            try
            {
                await gate.WaitAsync(context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                Interlocked.Decrement(ref _held);
                _heldRuns.TryRemove(run, out _);
            }
        }

        context.Response.StatusCode = StatusFor(run.Key);
        await context.Response.WriteAsync($"handled {run.Key}", context.RequestAborted);
    }
}
