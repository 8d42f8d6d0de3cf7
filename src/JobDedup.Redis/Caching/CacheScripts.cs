namespace JobDedup.Redis.Caching;

/// <summary>The Lua scripts of the cache: each runs atomically on the server (StackExchange.Redis sends them by SHA once loaded).</summary>
internal static class CacheScripts
{
    /// <summary>
    /// Stores a rebuilt value only while the rebuild lock is still this rebuilder's, frees the lock and announces the
    /// value. KEYS: entry, lock. ARGV: token, entry bytes, Redis TTL (ms), channel, message. Returns 1 when stored.
    /// </summary>
    public const string FencedWrite = """
        if redis.call('GET', KEYS[2]) == ARGV[1] then
          redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
          redis.call('DEL', KEYS[2])
          redis.call('PUBLISH', ARGV[4], ARGV[5])
          return 1
        end
        return 0
        """;

    /// <summary>Frees the rebuild lock only if it is still this token's (compare-and-delete). KEYS: lock. ARGV: token.</summary>
    public const string Release = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """;

    /// <summary>
    /// Removes an entry and its rebuild lock (so a rebuild under way cannot store its now outdated value), and tells
    /// every process to drop its copy. KEYS: entry, lock. ARGV: channel, message.
    /// </summary>
    public const string Invalidate = """
        redis.call('DEL', KEYS[1], KEYS[2])
        redis.call('PUBLISH', ARGV[1], ARGV[2])
        return 1
        """;
}
