using System.Text.Json;
using JobDedup.Redis.Connection;
using StackExchange.Redis;

namespace JobDedup;

/// <summary>Settings of a <see cref="SharedCache"/>. Checked when the cache is built (and at host start when registered with <c>AddJobDedupCache</c>).</summary>
public sealed class SharedCacheOptions
{
    /// <summary>The longest namespace.</summary>
    internal const int MaxNamespaceLength = 128;

    /// <summary>
    /// Gets or sets the StackExchange.Redis configuration string of the server (<c>127.0.0.1:6379</c>, or
    /// <c>host:port,password=…</c>). Ignored when <see cref="Connection"/> is set.
    /// </summary>
    /// <value>The default is empty; this or <see cref="Connection"/> must be set.</value>
    public string Configuration { get; set; } = string.Empty;

    /// <summary>Gets or sets a connection the application already has; the cache uses it and does not close it.</summary>
    /// <value>The default is <see langword="null"/>: the cache connects with <see cref="Configuration"/> on first use.</value>
    public IConnectionMultiplexer? Connection { get; set; }

    /// <summary>Gets or sets the prefix of every Redis key and of the pub/sub channel of this cache: caches that share a namespace share entries.</summary>
    /// <value>The default is <c>jobdedup</c>.</value>
    public string Namespace { get; set; } = "jobdedup";

    /// <summary>Gets or sets the options of each call that passes none.</summary>
    /// <value>The default is <see cref="CacheEntryOptions"/> with its own defaults.</value>
    public CacheEntryOptions DefaultEntryOptions { get; set; } = new();

    /// <summary>
    /// Gets or sets how long a value read or built here is also kept in this process's memory, in front of Redis.
    /// Invalidations and newer values from other processes drop the copy at once (pub/sub); <see cref="TimeSpan.Zero"/>
    /// turns the level off.
    /// </summary>
    /// <value>The default is <see cref="TimeSpan.Zero"/>: every read asks Redis.</value>
    public TimeSpan MemoryLevelDuration { get; set; }

    /// <summary>Gets or sets how many values the in-memory level holds at most; past it, new values are not kept in memory.</summary>
    /// <value>The default is 10,000.</value>
    public int MemoryLevelMaxEntries { get; set; } = 10_000;

    /// <summary>Gets or sets how long one Redis command may take before the cache treats Redis as unavailable (applies to the connection the cache makes itself).</summary>
    /// <value>The default is 1 second.</value>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how long the cache calls factories directly after Redis failed, before it tries Redis again.</summary>
    /// <value>The default is 1 second.</value>
    public TimeSpan RetryUnavailableAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the options of the default serializer (System.Text.Json); ignored when <see cref="Serializer"/> is set.</summary>
    /// <value>The default is <see langword="null"/>: <see cref="JsonSerializerOptions.Default"/>.</value>
    public JsonSerializerOptions? SerializerOptions { get; set; }

    /// <summary>Gets or sets how values are turned into bytes and back, instead of System.Text.Json.</summary>
    /// <value>The default is <see langword="null"/>: System.Text.Json with <see cref="SerializerOptions"/>.</value>
    public ICacheSerializer? Serializer { get; set; }

    /// <summary>Lists what is wrong with these settings, each message starting with its option's name.</summary>
    /// <returns>The problems; empty when the settings are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        RedisConfiguration.Validate(errors, Configuration, Connection);
        RedisConfiguration.ValidatePrefix(errors, nameof(Namespace), Namespace, MaxNamespaceLength);
        if (DefaultEntryOptions is null)
        {
            errors.Add($"{nameof(DefaultEntryOptions)} must be set.");
        }
        else
        {
            errors.AddRange(DefaultEntryOptions.Validate().Select(e => $"{nameof(DefaultEntryOptions)}.{e}"));
        }

        if (MemoryLevelDuration < TimeSpan.Zero || MemoryLevelDuration > TimeSpan.FromDays(1))
        {
            errors.Add($"{nameof(MemoryLevelDuration)} must be between 0 (off) and 1 day, not {MemoryLevelDuration}.");
        }

        if (MemoryLevelMaxEntries is < 1 or > 10_000_000)
        {
            errors.Add($"{nameof(MemoryLevelMaxEntries)} must be between 1 and 10,000,000, not {MemoryLevelMaxEntries}.");
        }

        RedisConfiguration.ValidateTimeout(errors, nameof(OperationTimeout), OperationTimeout);

        if (RetryUnavailableAfter < TimeSpan.FromMilliseconds(10) || RetryUnavailableAfter > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{nameof(RetryUnavailableAfter)} must be between 10 ms and 10 minutes, not {RetryUnavailableAfter}.");
        }

        return errors;
    }

    /// <summary>Throws when the settings are invalid, naming each wrong option.</summary>
    internal void EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid cache options: " + string.Join(" ", errors), "options");
        }
    }

    /// <summary>Copies the settings, so that later changes to the caller's instance do not reach a running cache.</summary>
    internal SharedCacheOptions Clone() => (SharedCacheOptions)MemberwiseClone();
}
