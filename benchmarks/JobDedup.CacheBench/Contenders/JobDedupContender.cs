namespace JobDedup.CacheBench.Contenders;

/// <summary>JobDedup's SharedCache with its defaults (beta 1, lock timeout 10 s, wait for lock 5 s).</summary>
internal sealed class JobDedupContender(string redis, string ns, bool memoryLevel) : ICacheContender
{
    private readonly SharedCache _cache = new(new SharedCacheOptions
    {
        Configuration = redis,
        Namespace = ns,
        MemoryLevelDuration = memoryLevel ? TimeSpan.FromMinutes(5) : TimeSpan.Zero,
    });

    private readonly Dictionary<TimeSpan, CacheEntryOptions> _options = [];

    public string Name => memoryLevel ? "JobDedup SharedCache" : "JobDedup SharedCache (Redis only)";

    public async ValueTask<string> GetAsync(string key, Func<CancellationToken, ValueTask<string>> factory, TimeSpan timeToLive)
    {
        CacheEntryOptions? options;
        lock (_options)
        {
            if (!_options.TryGetValue(timeToLive, out options))
            {
                options = new CacheEntryOptions { TimeToLive = timeToLive };
                _options[timeToLive] = options;
            }
        }

        return (await _cache.GetOrSetAsync(key, factory, options)).Value;
    }

    public ValueTask DisposeAsync() => _cache.DisposeAsync();
}
