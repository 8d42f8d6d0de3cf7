using Npgsql;

namespace JobDedup.WebApi;

/// <summary>Reads one product with a deliberately slow query, and counts the queries it sent.</summary>
internal sealed class ProductReader(NpgsqlDataSource dataSource, ProductsOptions options)
{
    // pg_sleep stands in for an expensive query; it runs once, for the one matching row.
    private const string Sql = "SELECT id, name, price, pg_sleep(@delay) FROM products WHERE id = @id";

    private long _queries;

    /// <summary>Gets the number of product queries sent to PostgreSQL since start or the last reset.</summary>
    public long Queries => Interlocked.Read(ref _queries);

    /// <summary>Sets the query count back to zero.</summary>
    public void ResetQueries() => Interlocked.Exchange(ref _queries, 0);

    /// <summary>Reads the product, or null when there is none with that id.</summary>
    public async Task<Product?> ReadAsync(int id, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _queries);
        await using var command = dataSource.CreateCommand(Sql);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("delay", options.QuerySeconds);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new Product(reader.GetInt32(0), reader.GetString(1), reader.GetDecimal(2))
            : null;
    }

    /// <summary>Checks that PostgreSQL answers and the products table is there.</summary>
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM products");
        return await command.ExecuteScalarAsync(cancellationToken) is long count && count > 0;
    }

    /// <summary>Returns the server's version string, as PostgreSQL reports it.</summary>
    public async Task<string> ServerVersionAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT version()");
        return (string?)await command.ExecuteScalarAsync(cancellationToken) ?? "unknown";
    }
}
