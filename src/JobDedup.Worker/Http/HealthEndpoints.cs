using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobDedup.Worker.Http;

/// <summary>
/// The probes, as Kubernetes reads them: <c>/healthz/live</c> answers 200 while the process serves HTTP;
/// <c>/healthz/ready</c> runs every health check (each consumer, each outcome store) and answers 200 when none is
/// unhealthy, 503 otherwise, with a small JSON body listing each check.
/// </summary>
internal static class HealthEndpoints
{
    public const string LivePath = "/healthz/live";
    public const string ReadyPath = "/healthz/ready";

    public static void Map(IEndpointRouteBuilder endpoints, HealthCheckService health)
    {
        endpoints.MapGet(LivePath, static (HttpContext context) => WriteAsync(context, StatusCodes.Status200OK, static writer =>
        {
            writer.WriteString("status", nameof(HealthStatus.Healthy));
        }));

        endpoints.MapGet(ReadyPath, async (HttpContext context) =>
        {
            var report = await health.CheckHealthAsync(context.RequestAborted).ConfigureAwait(false);
            await WriteAsync(context, StatusCode(report.Status), writer => WriteReport(writer, report)).ConfigureAwait(false);
        });
    }

    /// <summary>Unhealthy is the only status that takes the worker out of service; degraded still serves.</summary>
    internal static int StatusCode(HealthStatus status) =>
        status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;

    internal static void WriteReport(Utf8JsonWriter writer, HealthReport report)
    {
        writer.WriteString("status", report.Status.ToString());
        writer.WriteNumber("durationMs", Math.Round(report.TotalDuration.TotalMilliseconds, 1));
        writer.WriteStartArray("checks");
        foreach (var (name, entry) in report.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            writer.WriteStartObject();
            writer.WriteString("name", name);
            writer.WriteString("status", entry.Status.ToString());
            writer.WriteString("description", entry.Description ?? entry.Exception?.Message);
            writer.WriteNumber("durationMs", Math.Round(entry.Duration.TotalMilliseconds, 1));
            writer.WriteStartObject("data");
            foreach (var (key, value) in entry.Data)
            {
                writer.WritePropertyName(key);
                JsonSerializer.Serialize(writer, value, value.GetType());
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static async Task WriteAsync(HttpContext context, int status, Action<Utf8JsonWriter> body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await using (var writer = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
