namespace JobDedup.LoadTest;

/// <summary>What the web API counted during one run, read from its /stats endpoint afterwards.</summary>
/// <param name="DatabaseQueries">Product queries the API sent to PostgreSQL.</param>
/// <param name="Hits">Requests that got another request's result from SharedCall.</param>
/// <param name="Misses">Requests that led a SharedCall run (each sent one query).</param>
/// <param name="Errors">SharedCall runs that failed.</param>
internal readonly record struct ServerCounters(long DatabaseQueries, long Hits, long Misses, long Errors)
{
    public double HitRate => Hits + Misses == 0 ? 0 : (double)Hits / (Hits + Misses);
}
