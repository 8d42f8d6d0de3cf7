namespace JobDedup.LoadTest;

/// <summary>The two runs of one load shape, normal and coalesced, side by side.</summary>
internal sealed record Comparison(LoadShape Shape, RunResult Normal, RunResult Coalesced)
{
    /// <summary>Gets how many times the coalesced endpoint's throughput the normal one's is.</summary>
    public double Ratio => Coalesced.RequestsPerSecond / Normal.RequestsPerSecond;

    public static IReadOnlyList<Comparison> Pair(IReadOnlyList<RunResult> runs) =>
    [
        .. runs.GroupBy(r => r.Shape)
            .Select(g => (Normal: g.FirstOrDefault(r => r.Endpoint == "normal"), Coalesced: g.FirstOrDefault(r => r.Endpoint == "coalesced")))
            .Where(p => p.Normal is not null && p.Coalesced is not null)
            .Select(p => new Comparison(p.Normal!.Shape, p.Normal, p.Coalesced!)),
    ];
}
