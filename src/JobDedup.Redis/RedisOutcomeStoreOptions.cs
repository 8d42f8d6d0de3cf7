using System.Text.Json;
using JobDedup.Redis.Connection;
using StackExchange.Redis;

namespace JobDedup;

/// <summary>Settings of a <see cref="RedisOutcomeStore{TResult}"/>. Checked when the store is built (and at host start when registered with <c>UseRedisOutcomeStore</c>).</summary>
public sealed class RedisOutcomeStoreOptions
{
    /// <summary>The longest prefix.</summary>
    internal const int MaxPrefixLength = 128;

    /// <summary>Gets or sets the StackExchange.Redis configuration string of the server (<c>127.0.0.1:6379</c>). Ignored when <see cref="Connection"/> is set.</summary>
    /// <value>The default is empty; this or <see cref="Connection"/> must be set.</value>
    public string Configuration { get; set; } = string.Empty;

    /// <summary>Gets or sets a connection the application already has; the store uses it and does not close it.</summary>
    /// <value>The default is <see langword="null"/>: the store connects with <see cref="Configuration"/> on first use.</value>
    public IConnectionMultiplexer? Connection { get; set; }

    /// <summary>Gets or sets the prefix of the store's Redis keys and of its pub/sub channel (<c>{Prefix}:events</c>).</summary>
    /// <value>The default is <c>jobdedup:outcomes</c>.</value>
    public string Prefix { get; set; } = "jobdedup:outcomes";

    /// <summary>
    /// Gets or sets how long the record of a claim whose lease lapsed (its holder crashed, nobody took the key over) is
    /// kept before Redis expires it. A lapsed claim never blocks the key; the record only tells who held it.
    /// </summary>
    /// <value>The default is 10 minutes.</value>
    public TimeSpan ExpiredClaimRetention { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Gets or sets the time to live of this store instance's heartbeat key, refreshed every third of it while the
    /// instance runs. Claims record the heartbeat: once it has expired (the process died, or has been cut off from
    /// Redis this long), another instance may take the claim over at once instead of waiting for its lease. Shorter
    /// means a faster takeover after a crash, but a process that stalls this long (a long pause, a starved thread
    /// pool) loses its keys, and its handlers are canceled. <see cref="TimeSpan.Zero"/> turns it off: claims then rely
    /// on their lease alone.
    /// </summary>
    /// <value>The default is 5 seconds.</value>
    public TimeSpan OwnerHeartbeat { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how often a caller waiting on another instance's claim reads the key again, in case a pub/sub
    /// message was missed. It also reads at the claim's lease expiry, whichever comes first.
    /// </summary>
    /// <value>The default is 1 second.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how long one Redis command may take (applies to the connection the store makes itself).</summary>
    /// <value>The default is 5 seconds.</value>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the options of the default serializer (System.Text.Json); ignored when <see cref="Serializer"/> is set.</summary>
    /// <value>The default is <see langword="null"/>: <see cref="JsonSerializerOptions.Default"/>.</value>
    public JsonSerializerOptions? SerializerOptions { get; set; }

    /// <summary>Gets or sets how outcomes are turned into bytes and back, instead of System.Text.Json.</summary>
    /// <value>The default is <see langword="null"/>: System.Text.Json with <see cref="SerializerOptions"/>.</value>
    public ICacheSerializer? Serializer { get; set; }

    /// <summary>Lists what is wrong with these settings, each message starting with its option's name.</summary>
    /// <returns>The problems; empty when the settings are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        RedisConfiguration.Validate(errors, Configuration, Connection);
        RedisConfiguration.ValidatePrefix(errors, nameof(Prefix), Prefix, MaxPrefixLength);

        if (ExpiredClaimRetention < TimeSpan.Zero || ExpiredClaimRetention > TimeSpan.FromDays(365))
        {
            errors.Add($"{nameof(ExpiredClaimRetention)} must be between 0 and 365 days, not {ExpiredClaimRetention}.");
        }

        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"{nameof(PollInterval)} must be between 10 ms and 1 hour, not {PollInterval}.");
        }

        RedisConfiguration.ValidateTimeout(errors, nameof(OperationTimeout), OperationTimeout);

        if (OwnerHeartbeat != TimeSpan.Zero && (OwnerHeartbeat < TimeSpan.FromSeconds(1) || OwnerHeartbeat > TimeSpan.FromHours(1)))
        {
            errors.Add($"{nameof(OwnerHeartbeat)} must be zero (off) or between 1 second and 1 hour, not {OwnerHeartbeat}.");
        }

        return errors;
    }

    /// <summary>Throws when the settings are invalid, naming each wrong option.</summary>
    internal void EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid Redis outcome store options: " + string.Join(" ", errors), "options");
        }
    }

    /// <summary>Copies the settings, so that later changes to the caller's instance do not reach a running store.</summary>
    internal RedisOutcomeStoreOptions Clone() => (RedisOutcomeStoreOptions)MemberwiseClone();
}
