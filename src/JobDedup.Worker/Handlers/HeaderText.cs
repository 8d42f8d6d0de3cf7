using System.Buffers;
using System.Text;

namespace JobDedup.Worker.Handlers;

/// <summary>
/// What may go into an HTTP request header. A dedupe key is percent-encoded as UTF-8, so any key travels and
/// decodes back exactly; other values must already be visible ASCII, or the request is refused before it is sent.
/// </summary>
internal static class HeaderText
{
    // RFC 3986 unreserved characters: left as they are; every other UTF-8 byte becomes %XX.
    private static readonly SearchValues<char> Unreserved =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~");

    // RFC 9110 token characters, for header names.
    private static readonly SearchValues<char> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");

    /// <summary>
    /// Percent-encodes <paramref name="key"/>: its UTF-8 bytes, each one outside <c>A-Z a-z 0-9 - . _ ~</c> written as
    /// <c>%XX</c> (upper-case hex). A key made only of those characters (a UUID, <c>order-42</c>) is unchanged; the
    /// result never holds anything but those characters and <c>%</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The key holds a lone surrogate, which has no UTF-8 form.</exception>
    public static string EncodeKey(string key)
    {
        if (!key.AsSpan().ContainsAnyExcept(Unreserved))
        {
            return key;
        }

        var bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetBytes(key);
        var text = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (b < 0x80 && Unreserved.Contains((char)b))
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('%').Append(Convert.ToHexString([b]));
            }
        }

        return text.ToString();
    }

    /// <summary>Decodes what <see cref="EncodeKey"/> wrote (what an endpoint does with the header).</summary>
    public static string DecodeKey(string value) => Uri.UnescapeDataString(value);

    /// <summary>Whether a value can be sent in a header as it is: visible ASCII, spaces and tabs, nothing else.</summary>
    public static bool IsSafeValue(string value)
    {
        foreach (var c in value)
        {
            if (c is (< ' ' and not '\t') or > '~')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether a header name is an HTTP token.</summary>
    public static bool IsToken(string name) => name.Length > 0 && !name.AsSpan().ContainsAnyExcept(TokenChars);
}
