using JobDedup.Worker.Http;
using JobDedup.Worker.Pipelines;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace JobDedup.Worker.Tests.Support;

/// <summary>
/// The worker's host built as Program builds it, from settings given as environment-variable names
/// (<c>JobDedup__Pipelines__orders__Queue</c>), started in this process with its HTTP face on an ephemeral
/// 127.0.0.1 port unless the test says otherwise.
/// </summary>
public sealed class InProcessWorker : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;

    private InProcessWorker(IHost host, Uri? address)
    {
        _host = host;
        Address = address;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Gets the HTTP face's address, or null when it is off.</summary>
    public Uri? Address { get; }

    /// <summary>Gets a client of the HTTP face.</summary>
    public HttpClient Http { get; }

    public IServiceProvider Services => _host.Services;

    public static async Task<InProcessWorker> StartAsync(IReadOnlyDictionary<string, string> environment)
    {
        var values = new Dictionary<string, string?>
        {
            ["JobDedup:Http:Address"] = "127.0.0.1",
            ["JobDedup:Http:Port"] = "0",
        };
        foreach (var (name, value) in environment)
        {
            values[name.Replace("__", ":", StringComparison.Ordinal)] = value;
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(values);
        var settings = WorkerPipelines.Read(builder.Configuration);
        var problems = WorkerPipelines.Validate(settings);
        Assert.True(problems.Count == 0, "The test's worker settings are invalid: " + string.Join("; ", problems));
        WorkerHost.Configure(builder, settings);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        var host = builder.Build();
        try
        {
            await host.StartAsync().Within();
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new InProcessWorker(host, host.Services.GetService<HttpFace>()?.Address);
    }

    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _host.StopAsync().Within();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Http.Dispose();
        _host.Dispose();
    }
}
