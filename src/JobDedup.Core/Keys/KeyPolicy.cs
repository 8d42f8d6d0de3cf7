using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace JobDedup;

/// <summary>
/// Which dedupe keys JobDedup accepts: text of 1 to <see cref="MaxKeyBytes"/> UTF-8 bytes, with no control character
/// (U+0000–U+001F, U+007F, U+0080–U+009F), no line or paragraph separator (U+2028, U+2029) and no lone surrogate.
/// </summary>
/// <remarks>
/// A key travels into stores, log lines, message headers and HTTP headers. Control characters and separators split
/// lines and headers there (CR and LF turn one HTTP header into two), and a lone surrogate has no UTF-8 form, so two
/// different keys would reach a store as the same bytes. Every other character, letters and emoji of any script
/// included, is accepted. The reason an invalid key is refused never repeats the key itself.
/// </remarks>
public sealed class KeyPolicy
{
    /// <summary>The default of <see cref="MaxKeyBytes"/>: 1024 UTF-8 bytes.</summary>
    /// <remarks>
    /// Well above the usual keys (a UUID is 36 bytes, an idempotency key of a payment provider at most 255), and small
    /// enough that the key fits every place it travels: a PostgreSQL btree row (at most 2,704 bytes), a Redis key, and
    /// an HTTP header even once percent-encoded (at most 3 KB, under the 8 KB most servers allow per header).
    /// </remarks>
    public const int DefaultMaxKeyBytes = 1024;

    /// <summary>The largest <see cref="MaxKeyBytes"/> accepted: 64 KiB.</summary>
    public const int LargestMaxKeyBytes = 64 * 1024;

    /// <summary>Initializes a new instance of the <see cref="KeyPolicy"/> class.</summary>
    /// <param name="maxKeyBytes">The longest key accepted, in UTF-8 bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxKeyBytes"/> is not between 1 and <see cref="LargestMaxKeyBytes"/>.</exception>
    public KeyPolicy(int maxKeyBytes = DefaultMaxKeyBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxKeyBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxKeyBytes, LargestMaxKeyBytes);
        MaxKeyBytes = maxKeyBytes;
    }

    /// <summary>Gets the policy with the default limit, <see cref="DefaultMaxKeyBytes"/>.</summary>
    public static KeyPolicy Default { get; } = new();

    /// <summary>Gets the longest key accepted, in UTF-8 bytes.</summary>
    public int MaxKeyBytes { get; }

    /// <summary>Checks a key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="reason">Why the key is refused, in a sentence that does not repeat the key; null when it is valid.</param>
    /// <returns><see langword="true"/> when the key is valid.</returns>
    public bool TryValidate([NotNullWhen(true)] string? key, [NotNullWhen(false)] out string? reason)
    {
        if (key is null)
        {
            reason = "The key is null.";
            return false;
        }

        if (key.Length == 0)
        {
            reason = "The key is empty.";
            return false;
        }

        // Every char is at most 3 UTF-8 bytes (a surrogate pair, 2 chars, is 4): count only when it may matter.
        var counting = key.Length > MaxKeyBytes / 3;
        var bytes = 0;
        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (c < 0x80)
            {
                bytes++;
                if (c < 0x20 || c == 0x7F)
                {
                    reason = Refused("the control character", c, i);
                    return false;
                }

                continue;
            }

            if (c <= 0x9F)
            {
                reason = Refused("the control character", c, i);
                return false;
            }

            if (c is '\u2028' or '\u2029')
            {
                reason = Refused(c == '\u2028' ? "the line separator" : "the paragraph separator", c, i);
                return false;
            }

            if (char.IsHighSurrogate(c) && i + 1 < key.Length && char.IsLowSurrogate(key[i + 1]))
            {
                bytes += 4;
                i++;
                continue;
            }

            if (char.IsSurrogate(c))
            {
                reason = Refused("a lone surrogate", c, i);
                return false;
            }

            bytes += c < 0x800 ? 2 : 3;
        }

        if (counting && bytes > MaxKeyBytes)
        {
            reason = string.Create(CultureInfo.InvariantCulture, $"The key is {bytes} UTF-8 bytes long; the limit (MaxKeyBytes) is {MaxKeyBytes}.");
            return false;
        }

        reason = null;
        return true;
    }

    /// <summary>Checks a key and throws when it is not valid.</summary>
    /// <param name="key">The key.</param>
    /// <param name="paramName">The parameter the key came from, named in the exception.</param>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is not valid; the message says why.</exception>
    public void ThrowIfInvalid([NotNull] string? key, [CallerArgumentExpression(nameof(key))] string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(key, paramName);
        if (!TryValidate(key, out var reason))
        {
            throw new ArgumentException(reason, paramName);
        }
    }

    private static string Refused(string what, char c, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"The key holds {what} U+{(int)c:X4} at index {index}; keys must not hold control characters, line or paragraph separators, or lone surrogates.");
}
