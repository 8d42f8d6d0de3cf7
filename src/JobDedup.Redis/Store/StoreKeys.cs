using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace JobDedup.Redis.Store;

/// <summary>
/// Redis names of the outcome store. Scopes and keys of any length and any characters are accepted: a part up to
/// <see cref="MaxLiteralBytes"/> UTF-8 bytes is kept as it is (after <c>=</c>), a longer one as its SHA-256 (after
/// <c>#</c>), so the two never collide; parts are length-prefixed, so no scope and key pair reads as another.
/// </summary>
internal sealed class StoreKeys(string prefix)
{
    public const int MaxLiteralBytes = 256;

    public RedisChannel Channel { get; } = RedisChannel.Literal(prefix + ":events");

    public string ChannelName => prefix + ":events";

    /// <summary>The scope's meta hash (generation and fencing counter).</summary>
    public RedisKey Meta(string scopePart) => $"{prefix}:s:{scopePart}";

    /// <summary>The heartbeat key of one store instance: it exists while the instance lives.</summary>
    public string Heartbeat(string instance) => $"{prefix}:i:{instance}";

    /// <summary>What the scripts put the generation and key part after.</summary>
    public string RecordPrefix(string scopePart) => $"{prefix}:o:{scopePart}:";

    public static string Part(string value)
    {
        var bytes = Encoding.UTF8.GetByteCount(value);
        if (bytes <= MaxLiteralBytes)
        {
            return string.Concat(bytes.ToString(CultureInfo.InvariantCulture), "=", value);
        }

        return "#" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
    }

    /// <summary>The pub/sub message that wakes waiters of one key.</summary>
    public static string KeyMessage(string scopePart, string keyPart) => scopePart + "\n" + keyPart;

    /// <summary>The pub/sub message that wakes every waiter of a scope.</summary>
    public static string ScopeMessage(string scopePart) => scopePart + "\n*";
}
