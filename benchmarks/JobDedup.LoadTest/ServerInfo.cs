namespace JobDedup.LoadTest;

/// <summary>The web API's own description of its database side, read from its /about endpoint.</summary>
/// <param name="MaxPoolSize">Npgsql's Max Pool Size.</param>
/// <param name="QuerySeconds">How long each product query sleeps in PostgreSQL.</param>
/// <param name="Postgres">PostgreSQL's version string.</param>
internal sealed record ServerInfo(int MaxPoolSize, double QuerySeconds, string Postgres);
