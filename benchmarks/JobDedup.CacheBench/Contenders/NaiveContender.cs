using StackExchange.Redis;

namespace JobDedup.CacheBench.Contenders;

/// <summary>Plain cache-aside: GET; on a miss, query and SET. Every concurrent miss queries.</summary>
internal sealed class NaiveContender(string redis, string ns) : ICacheContender
{
    private readonly ConnectionMultiplexer _connection = ConnectionMultiplexer.Connect(redis);

    public string Name => "naive cache-aside";

    public async ValueTask<string> GetAsync(string key, Func<CancellationToken, ValueTask<string>> factory, TimeSpan timeToLive)
    {
        var database = _connection.GetDatabase();
        var cached = await database.StringGetAsync($"{ns}:{key}");
        if (cached.HasValue)
        {
            return cached!;
        }

        var value = await factory(CancellationToken.None);
        await database.StringSetAsync($"{ns}:{key}", value, timeToLive);
        return value;
    }

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
}
