using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;

namespace JobDedup.Redis.Telemetry;

/// <summary>
/// The cache's counters on the <c>JobDedup</c> meter, tagged with the cache's name only (never a key), and the same
/// counts kept per cache for <see cref="SharedCache.GetStats"/>.
/// </summary>
internal sealed class CacheMetrics
{
    /// <summary>The tag naming the cache on every instrument.</summary>
    public const string CacheTag = RedisTelemetry.CacheTag;

    private static readonly Meter Meter = new(
        RedisTelemetry.MeterName,
        typeof(CacheMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);
    private static readonly Counter<long> Hits = Meter.CreateCounter<long>("jobdedup.cache.hits", "{call}", "Calls served from the cache (memory or Redis).");
    private static readonly Counter<long> Misses = Meter.CreateCounter<long>("jobdedup.cache.misses", "{read}", "Redis reads that found no fresh value.");
    private static readonly Counter<long> EarlyRefreshes = Meter.CreateCounter<long>("jobdedup.cache.early_refreshes", "{refresh}", "Background refreshes started by XFetch before expiry.");
    private static readonly Counter<long> LockWaits = Meter.CreateCounter<long>("jobdedup.cache.lock_waits", "{wait}", "Waits for another process's rebuild.");
    private static readonly Counter<long> StampedesPrevented = Meter.CreateCounter<long>("jobdedup.cache.stampedes_prevented", "{call}", "Calls for a missing value that did not run the factory: another caller's rebuild served them.");
    private static readonly Counter<long> StaleServed = Meter.CreateCounter<long>("jobdedup.cache.stale_served", "{call}", "Stale values served by fail-safe.");
    private static readonly Counter<long> FactoryRuns = Meter.CreateCounter<long>("jobdedup.cache.factory_runs", "{run}", "Factory runs.");

    private readonly TagList _tags;
    private long _hits;
    private long _misses;
    private long _earlyRefreshes;
    private long _lockWaits;
    private long _stampedesPrevented;
    private long _staleServed;
    private long _factoryRuns;

    public CacheMetrics(string cacheName) => _tags = new TagList { { CacheTag, cacheName } };

    public void Hit() => Add(Hits, ref _hits);

    public void Miss() => Add(Misses, ref _misses);

    public void EarlyRefresh() => Add(EarlyRefreshes, ref _earlyRefreshes);

    public void LockWait() => Add(LockWaits, ref _lockWaits);

    public void StampedePrevented() => Add(StampedesPrevented, ref _stampedesPrevented);

    public void Stale() => Add(StaleServed, ref _staleServed);

    public void FactoryRun() => Add(FactoryRuns, ref _factoryRuns);

    public SharedCacheStats Snapshot() => new(
        Interlocked.Read(ref _hits),
        Interlocked.Read(ref _misses),
        Interlocked.Read(ref _earlyRefreshes),
        Interlocked.Read(ref _lockWaits),
        Interlocked.Read(ref _stampedesPrevented),
        Interlocked.Read(ref _staleServed),
        Interlocked.Read(ref _factoryRuns));

    private void Add(Counter<long> counter, ref long count)
    {
        Interlocked.Increment(ref count);
        counter.Add(1, _tags);
    }
}
