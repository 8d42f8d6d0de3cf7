using StackExchange.Redis;

namespace JobDedup.Redis.Caching;

/// <summary>The Redis names of one cache namespace: entries, rebuild locks, and the pub/sub channel.</summary>
internal sealed class CacheKeys(string ns)
{
    private readonly string _valuePrefix = ns + ":v:";
    private readonly string _lockPrefix = ns + ":l:";

    public RedisChannel Channel { get; } = RedisChannel.Literal(ns + ":events");

    public string Value(string key) => _valuePrefix + key;

    public RedisKey Lock(string key) => _lockPrefix + key;
}
