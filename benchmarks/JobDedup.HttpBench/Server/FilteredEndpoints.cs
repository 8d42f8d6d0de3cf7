using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace JobDedup.HttpBench.Server;

/// <summary>The endpoints behind JobDedup's idempotency filter, with the in-memory store.</summary>
internal static class FilteredEndpoints
{
    /// <summary>The cheap handler behind the filter.</summary>
    public const string CheapPath = "/filtered/cheap";

    /// <summary>The contended charge behind the filter.</summary>
    public const string ChargePath = "/filtered/charge";

    /// <summary>Registers the filter's services.</summary>
    public static void AddServices(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
    }

    /// <summary>Maps the filtered endpoints.</summary>
    public static void Map(WebApplication app, ChargeWork work)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost(CheapPath, (ChargeRequest request) => Results.Ok(work.Cheap(request)));
        app.MapPost(ChargePath, (HttpContext context, ChargeRequest request) => work.ChargeAsync(context.Request.Headers[BenchServer.KeyHeader].ToString(), request, context.RequestAborted));
    }

    /// <summary>Sends <paramref name="count"/> more replays of <paramref name="key"/> and counts the answers marked as replays.</summary>
    public static async Task<int> CountReplayMarkedAsync(HttpClient client, string key, int count)
    {
        ArgumentNullException.ThrowIfNull(client);
        var marked = 0;
        for (var i = 0; i < count; i++)
        {
            using var response = await client.SendAsync(Scenarios.Requests.Post(CheapPath, key));
            marked += response.Headers.Contains("Idempotent-Replayed") ? 1 : 0;
        }

        return marked;
    }
}
