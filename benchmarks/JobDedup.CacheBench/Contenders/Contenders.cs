namespace JobDedup.CacheBench.Contenders;

/// <summary>Builds contenders by name: naive, jobdedup, jobdedup-redis-only, hybrid, fusion.</summary>
internal static class Contenders
{
    public static readonly string[] Peers = ["jobdedup", "hybrid", "fusion"];

    public static ICacheContender Create(string name, string redis, string ns) => name switch
    {
        "naive" => new NaiveContender(redis, ns),
        "jobdedup" => new JobDedupContender(redis, ns, memoryLevel: true),
        "jobdedup-redis-only" => new JobDedupContender(redis, ns, memoryLevel: false),
        "hybrid" => new HybridContender(redis, ns),
        "fusion" => new FusionContender(redis, ns),
        _ => throw new ArgumentException($"no contender named '{name}'", nameof(name)),
    };
}
