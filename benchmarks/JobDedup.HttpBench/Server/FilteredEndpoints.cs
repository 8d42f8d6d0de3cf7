using JobDedup.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace JobDedup.HttpBench.Server;

/// <summary>
/// The endpoints behind JobDedup's idempotency filter: the same handlers as the plain and guarded ones, with the
/// default option set (answers in memory) and, when a database is given, an option set whose answers are in PostgreSQL.
/// </summary>
internal static class FilteredEndpoints
{
    /// <summary>The cheap handler behind the filter.</summary>
    public const string CheapPath = "/filtered/cheap";

    /// <summary>The cheap handler behind the filter, for POSTs without a body.</summary>
    public const string EmptyPath = "/filtered/empty";

    /// <summary>The contended charge behind the filter, answers in memory.</summary>
    public const string ChargePath = "/filtered/charge";

    /// <summary>The contended charge behind the filter, answers in PostgreSQL.</summary>
    public const string PostgresChargePath = "/filtered-postgres/charge";

    private const string PostgresPolicy = "postgres";

    /// <summary>Registers the option sets and their deduplicators.</summary>
    public static void AddServices(IServiceCollection services, NpgsqlDataSource? database, string schema)
    {
        services.AddIdempotency(o => o.RequireKey = true);
        if (database is not null)
        {
            services.AddIdempotency(PostgresPolicy, o => o.RequireKey = true)
                .UsePostgreSqlOutcomeStore(_ => database, o => o.Schema = schema);
        }
    }

    /// <summary>Maps the filtered endpoints.</summary>
    public static void Map(WebApplication app, ChargeWork work, bool withDatabase)
    {
        app.MapPost(CheapPath, (ChargeRequest request) => Results.Ok(work.Cheap(request))).WithIdempotency();
        app.MapPost(EmptyPath, () => Results.Ok(work.Cheap(ChargeWork.EmptyRequest))).WithIdempotency();
        app.MapPost(ChargePath, async (HttpContext context, ChargeRequest request) =>
            Results.Ok(await work.ChargeAsync(context.Request.Headers[BenchServer.KeyHeader].ToString(), request, context.RequestAborted)))
            .WithIdempotency();
        if (withDatabase)
        {
            app.MapPost(PostgresChargePath, async (HttpContext context, ChargeRequest request) =>
                Results.Ok(await work.ChargeAsync(context.Request.Headers[BenchServer.KeyHeader].ToString(), request, context.RequestAborted)))
                .WithIdempotency(PostgresPolicy);
        }
    }

    /// <summary>Sends <paramref name="count"/> more replays of <paramref name="key"/> and counts the answers marked as replays.</summary>
    public static async Task<int> CountReplayMarkedAsync(HttpClient client, string key, int count)
    {
        var marked = 0;
        for (var i = 0; i < count; i++)
        {
            using var response = await client.SendAsync(Scenarios.Requests.Post(CheapPath, key));
            marked += response.Headers.TryGetValues(IdempotencyOptions.DefaultReplayedHeader, out var values) && values.Contains("true", StringComparer.OrdinalIgnoreCase) ? 1 : 0;
        }

        return marked;
    }
}
