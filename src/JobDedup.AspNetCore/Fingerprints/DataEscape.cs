using System.Buffers;
using System.Text;

namespace JobDedup.AspNetCore.Fingerprints;

/// <summary>
/// Escapes text as <see cref="Uri.EscapeDataString(string)"/> does (every character but the unreserved ones of RFC 3986,
/// as UTF-8 bytes in uppercase <c>%XX</c>), the same characters out, for the parts of a fingerprint. ASCII text, what
/// methods, paths and member names mostly are, is appended here in runs, several times faster than by
/// <see cref="Uri"/> and with no buffer between; text with any other character is left to <see cref="Uri"/>, so that
/// its UTF-8 (and its handling of a lone surrogate) is Uri's own.
/// </summary>
internal static class DataEscape
{
    private static readonly SearchValues<char> Unreserved =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~");

    /// <summary>
    /// Appends <paramref name="value"/> escaped, unless escaped it is longer than <paramref name="maxLength"/>: then
    /// nothing is appended.
    /// </summary>
    /// <returns>Whether it was appended.</returns>
    public static bool TryAppend(StringBuilder text, ReadOnlySpan<char> value, int maxLength)
    {
        if (!Ascii.IsValid(value))
        {
            var escaped = Uri.EscapeDataString(value.ToString());
            if (escaped.Length > maxLength)
            {
                return false;
            }

            text.Append(escaped);
            return true;
        }

        var start = text.Length;
        var rest = value;
        while (true)
        {
            var run = rest.IndexOfAnyExcept(Unreserved);
            text.Append(run < 0 ? rest : rest[..run]);
            if (text.Length - start > maxLength)
            {
                text.Length = start;
                return false;
            }

            if (run < 0)
            {
                return true;
            }

            var c = rest[run];
            text.Append('%').Append(HexUpper(c >> 4)).Append(HexUpper(c & 0xF));
            rest = rest[(run + 1)..];
        }
    }

    private static char HexUpper(int digit) => (char)(digit < 10 ? '0' + digit : 'A' + digit - 10);
}
