using JobDedup;
using JobDedup.WebApi;
using Npgsql;

// A product API with two ways to read the same row: straight from PostgreSQL, or through SharedCall so that
// concurrent requests for one product share one query. The web load test (scripts/bench.sh web) compares them.
var builder = WebApplication.CreateBuilder(args);

var options = builder.Configuration.GetSection(ProductsOptions.Section).Get<ProductsOptions>() ?? new ProductsOptions();
if (builder.Configuration["JOBDEDUP_POSTGRES"] is { Length: > 0 } fromEnvironment)
{
    options.ConnectionString = fromEnvironment;
}

var connection = new NpgsqlConnectionStringBuilder(options.ConnectionString)
{
    MaxPoolSize = options.MaxPoolSize,
    Timeout = options.PoolWaitSeconds,
};

builder.Services.AddSingleton(options);
builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connection.ConnectionString));
builder.Services.AddSingleton<ProductReader>();
builder.Services.AddSingleton(new SharedCall<int, Product?>());

var app = builder.Build();

// Every request sends its own query and waits for one of the pooled connections.
app.MapGet("/product/normal/{id:int}", async (int id, ProductReader products, CancellationToken cancellationToken) =>
    await products.ReadAsync(id, cancellationToken) is { } product ? Results.Ok(product) : Results.NotFound());

// Concurrent requests for the same id share one query; a caller that disconnects detaches only itself.
app.MapGet("/product/coalesced/{id:int}", async (int id, ProductReader products, SharedCall<int, Product?> calls, CancellationToken cancellationToken) =>
{
    var product = await calls.RunAsync(
        id,
        (products, id),
        static (state, token) => state.products.ReadAsync(state.id, token),
        cancellationToken);
    return product is null ? Results.NotFound() : Results.Ok(product);
});

app.MapGet("/stats", (SharedCall<int, Product?> calls, ProductReader products) =>
    Results.Ok(new { sharedCall = calls.GetStats(), databaseQueries = products.Queries }));

app.MapPost("/stats/reset", (SharedCall<int, Product?> calls, ProductReader products) =>
{
    calls.ResetStats();
    products.ResetQueries();
    return Results.NoContent();
});

app.MapGet("/health", async (ProductReader products, CancellationToken cancellationToken) =>
    await products.IsReadyAsync(cancellationToken) ? Results.Ok("ready") : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));

// What the load test reports about the server side: the pool, the query time and the PostgreSQL version.
app.MapGet("/about", async (ProductReader products, CancellationToken cancellationToken) => Results.Ok(new
{
    maxPoolSize = options.MaxPoolSize,
    querySeconds = options.QuerySeconds,
    postgres = await products.ServerVersionAsync(cancellationToken),
}));

app.Run();
