namespace JobDedup.Redis.Caching;

/// <summary>
/// The XFetch decision (Vattani, Chierichetti and Lowenstein, "Optimal Probabilistic Cache Stampede Prevention",
/// VLDB 2015): refresh a fresh entry early when <c>now - delta * beta * ln(u) &gt;= expiry</c>, u uniform in (0, 1].
/// The longer a rebuild takes and the closer the expiry, the likelier a read refreshes; under steady load one read
/// refreshes shortly before the expiry, and nobody meets an expired entry.
/// </summary>
internal static class EarlyRefresh
{
    /// <summary>Whether a read at <paramref name="now"/> should refresh the entry early.</summary>
    /// <param name="now">The time of the read.</param>
    /// <param name="expiresAt">The entry's expiry.</param>
    /// <param name="delta">How long the entry's rebuild took.</param>
    /// <param name="beta">The XFetch factor; 0 never refreshes early.</param>
    /// <param name="uniform">A random draw in [0, 1); 0 is treated as the smallest positive double.</param>
    public static bool ShouldRefresh(DateTimeOffset now, DateTimeOffset expiresAt, TimeSpan delta, double beta, double uniform)
    {
        if (beta <= 0 || delta <= TimeSpan.Zero || now >= expiresAt)
        {
            return false;
        }

        // 1 - uniform lies in (0, 1]: its logarithm is finite and at most zero.
        var gap = -delta.TotalMilliseconds * beta * Math.Log(1 - uniform);
        return (expiresAt - now).TotalMilliseconds <= gap;
    }
}
