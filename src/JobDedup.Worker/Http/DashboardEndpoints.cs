using System.Collections.Frozen;
using System.Text.Json;
using JobDedup.Worker.Http.Stats;
using JobDedup.Worker.Settings;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace JobDedup.Worker.Http;

/// <summary>
/// The live dashboard: its page, script and style from the worker's own assembly (nothing comes from elsewhere),
/// and <c>/api/stats</c>, the sampler's history as JSON, which the page reads every second.
/// </summary>
internal static class DashboardEndpoints
{
    public const string StatsPath = "/api/stats";

    private static readonly FrozenDictionary<string, (string Resource, string ContentType)> Assets = new Dictionary<string, (string, string)>
    {
        ["/"] = ("index.html", "text/html; charset=utf-8"),
        ["/dashboard.js"] = ("dashboard.js", "text/javascript; charset=utf-8"),
        ["/dashboard.css"] = ("dashboard.css", "text/css; charset=utf-8"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static void Map(IEndpointRouteBuilder endpoints, StatsSampler sampler, HttpSettings settings)
    {
        foreach (var (path, (resource, contentType)) in Assets)
        {
            var body = Load(resource);
            endpoints.MapGet(path, (HttpContext context) =>
            {
                context.Response.ContentType = contentType;
                context.Response.Headers.CacheControl = "no-cache";
                context.Response.Headers["Content-Security-Policy"] = "default-src 'self'";
                return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
            });
        }

        var history = (int)settings.History.TotalSeconds;
        endpoints.MapGet(StatsPath, (HttpContext context) =>
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            context.Response.Headers.CacheControl = "no-store";
            var stats = new DashboardStats(1, history, settings.ShowKeys, sampler.Read());
            return JsonSerializer.SerializeAsync(context.Response.Body, stats, JsonSerializerOptions.Web, context.RequestAborted);
        });
    }

    /// <summary>Reads an embedded asset.</summary>
    /// <exception cref="InvalidOperationException">The asset is not in the assembly (a build problem).</exception>
    internal static byte[] Load(string resource)
    {
        using var stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream($"JobDedup.Worker.Assets.{resource}")
            ?? throw new InvalidOperationException($"The dashboard asset {resource} is missing from the worker's assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
