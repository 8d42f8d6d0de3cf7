using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace JobDedup.HttpBench.Server;

/// <summary>
/// The measured web app, on Kestrel at 127.0.0.1 on a free port, in this process: the same handler behind the plain
/// endpoints, the endpoints with JobDedup's idempotency filter, and the hand-written guards.
/// </summary>
internal sealed class BenchServer : IAsyncDisposable
{
    /// <summary>The request header that carries the key, on every endpoint.</summary>
    public const string KeyHeader = "Idempotency-Key";

    private readonly WebApplication _app;

    private BenchServer(WebApplication app, Uri address, ChargeWork work, PostgresGuard? postgres)
    {
        _app = app;
        Address = address;
        Work = work;
        Postgres = postgres;
    }

    /// <summary>Gets the address Kestrel bound.</summary>
    public Uri Address { get; }

    /// <summary>Gets the handler every endpoint shares, with its run counts.</summary>
    public ChargeWork Work { get; }

    /// <summary>Gets the app's services, for requests made in process.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Gets the endpoint mapped at <paramref name="path"/>, for requests made in process.</summary>
    public RouteEndpoint Endpoint(string path) =>
        ((IEndpointRouteBuilder)_app).DataSources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>()
            .Single(endpoint => endpoint.RoutePattern.RawText == path);

    /// <summary>Gets the PostgreSQL guard, when a database was given.</summary>
    public PostgresGuard? Postgres { get; }

    /// <summary>Builds and starts the app.</summary>
    /// <param name="database">The database for the PostgreSQL guard, or <see langword="null"/> to leave that contender out.</param>
    /// <param name="schema">The schema the PostgreSQL guard's table goes in.</param>
    public static async Task<BenchServer> StartAsync(NpgsqlDataSource? database, string schema)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var work = new ChargeWork();
        var memory = new MemoryGuard(work);
        var postgres = database is null ? null : new PostgresGuard(database, schema, work);
        builder.Services.AddSingleton(work);
        FilteredEndpoints.AddServices(builder.Services, database, schema);

        var app = builder.Build();

        // A request that only warms connections up.
        app.MapGet("/ping", () => Results.Ok());

        // (a) and (b): the cheapest handler, without and with the filter.
        app.MapPost("/plain/cheap", (ChargeRequest request) => Results.Ok(work.Cheap(request)));

        // For reading (a): the same handler with no body to bind, so the filter has none to fingerprint either.
        app.MapPost("/plain/empty", () => Results.Ok(work.Cheap(ChargeWork.EmptyRequest)));

        // (c): a charge that takes a while, under a hand-written guard.
        app.MapPost("/guard/memory/charge", async (HttpContext context, ChargeRequest request) =>
            Key(context) is { } key ? Results.Ok(await memory.HandleAsync(key, request, context.RequestAborted)) : Results.BadRequest());
        if (postgres is not null)
        {
            await postgres.CreateAsync();
            app.MapPost("/guard/postgres/charge", async (HttpContext context, ChargeRequest request) =>
                Key(context) is { } key ? Results.Ok(await postgres.HandleAsync(key, request, context.RequestAborted)) : Results.BadRequest());
        }

        FilteredEndpoints.Map(app, work, postgres is not null);

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new BenchServer(app, new Uri(address), work, postgres);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        if (Postgres is not null)
        {
            await Postgres.DropAsync();
        }

        await _app.DisposeAsync();
    }

    private static string? Key(HttpContext context) =>
        context.Request.Headers.TryGetValue(KeyHeader, out var values) && values.ToString() is { Length: > 0 } key ? key : null;
}
