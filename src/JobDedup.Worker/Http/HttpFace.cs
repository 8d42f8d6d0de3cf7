using System.Net;
using JobDedup.Worker.Http.Stats;
using JobDedup.Worker.Settings;
using JobDedup.Worker.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace JobDedup.Worker.Http;

/// <summary>
/// The worker's HTTP face, as one hosted service of the worker: a small Kestrel application of its own, with no
/// configuration sources of its own, that serves the probes, the Prometheus scrape and the dashboard from the
/// worker's services. It starts before the pipelines, so the liveness probe answers while they connect.
/// </summary>
internal sealed class HttpFace : IHostedService, IAsyncDisposable
{
    private readonly HttpSettings _settings;
    private readonly HealthCheckService _health;
    private readonly StatsSampler? _sampler;
    private readonly MeterProvider? _meterProvider;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private WebApplication? _app;

    /// <param name="settings">Where to listen and what to serve.</param>
    /// <param name="health">The worker's health checks.</param>
    /// <param name="sampler">The dashboard's history; null when the dashboard is off.</param>
    /// <param name="meterProvider">The provider with the Prometheus exporter; null when metrics are off.</param>
    /// <param name="loggerFactory">The worker's logging.</param>
    public HttpFace(HttpSettings settings, HealthCheckService health, StatsSampler? sampler, MeterProvider? meterProvider, ILoggerFactory loggerFactory)
    {
        _settings = settings;
        _health = health;
        _sampler = sampler;
        _meterProvider = meterProvider;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("JobDedup.Worker.Http");
    }

    /// <summary>Gets the address the face listens on (with the port the system chose for port 0), once started.</summary>
    public Uri? Address { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(HttpFace).Assembly.GetName().Name });
        builder.Services.Replace(ServiceDescriptor.Singleton(_loggerFactory));
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            Listen(kestrel, _settings.Address, _settings.Port);
        });

        var app = builder.Build();
        app.UseRouting();
        var served = new List<string> { HealthEndpoints.LivePath, HealthEndpoints.ReadyPath };
        HealthEndpoints.Map(app, _health);
        if (_meterProvider is not null)
        {
            app.MapPrometheusScrapingEndpoint(WorkerTelemetry.MetricsPath, _meterProvider, configureBranchedPipeline: null, optionsName: null);
            served.Add(WorkerTelemetry.MetricsPath);
        }

        if (_sampler is not null)
        {
            DashboardEndpoints.Map(app, _sampler, _settings);
            served.Add("/ (dashboard)");
            served.Add(DashboardEndpoints.StatsPath);
        }

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException(
                $"The HTTP face cannot listen on {_settings.Address}:{_settings.Port} ({ex.Message}). Choose another " +
                $"{WorkerSettings.Section}:Http:Port, or turn it off with {WorkerSettings.Section}:Http:Enabled=false.",
                ex);
        }

        _app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        Address = address is null ? null : new Uri(address);
        Log.Listening(_logger, address ?? $"{_settings.Address}:{_settings.Port}", string.Join(", ", served));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is { } app)
        {
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
            Log.Stopped(_logger);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _app, null) is { } app)
        {
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static void Listen(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel, string address, int port)
    {
        if (string.Equals(address, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(port);
        }
        else
        {
            kestrel.Listen(IPAddress.Parse(address), port);
        }
    }
}
