namespace JobDedup.WebApi;

/// <summary>How the API reaches PostgreSQL; bound from the <c>Products</c> section.</summary>
internal sealed class ProductsOptions
{
    /// <summary>The configuration section these options come from.</summary>
    public const string Section = "Products";

    /// <summary>Gets or sets the Npgsql connection string; the environment variable JOBDEDUP_POSTGRES overrides it.</summary>
    public string ConnectionString { get; set; } = "Host=127.0.0.1;Port=5432;Username=postgres;Database=jobdedup";

    /// <summary>Gets or sets the connection pool size. The default is 10, as in the original demo.</summary>
    public int MaxPoolSize { get; set; } = 10;

    /// <summary>
    /// Gets or sets how long a request may wait for a free pooled connection. The default is 120 s: without coalescing,
    /// 1,000 concurrent requests queue for 10 connections for about 50 s, and the test measures that queue rather than
    /// Npgsql's 15 s default turning it into errors.
    /// </summary>
    public int PoolWaitSeconds { get; set; } = 120;

    /// <summary>Gets or sets how long each product query takes (pg_sleep). The default is 0.5 s.</summary>
    public double QuerySeconds { get; set; } = 0.5;
}
