namespace JobDedup.CacheBench.Contenders;

/// <summary>One cache under test, asked for a key with the same factory by every scenario.</summary>
internal interface ICacheContender : IAsyncDisposable
{
    string Name { get; }

    ValueTask<string> GetAsync(string key, Func<CancellationToken, ValueTask<string>> factory, TimeSpan timeToLive);
}
