using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;

namespace JobDedup.AspNetCore.Tests.Fingerprints;

/// <summary>
/// The request fingerprint's format, written out plainly (with the canonical JSON writer it relied on) so that the fast
/// implementation can be held to the same strings: fingerprints are kept in shared stores across versions. Written
/// for clarity, not speed; change it only with the format. (Before the first release, the member digests changed from
/// SHA-256 to XxHash3: they only name what changed, and a native SHA-256 call per member cost more than the rest of
/// the fingerprint; then the body's digest from SHA-256 to XxHash128, whose one native SHA-256 call cost more than
/// the rest of the fingerprint again: it tells a client's repeat from its mistake and guards no secret.)
/// </summary>
internal static class ReferenceFingerprint
{
    private const int MaxMembers = 64;
    private const int MaxNameLength = 96;
    private const int MemberDigestLength = 12;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The fingerprint of a request's parts, as the first version composed it.</summary>
    public static string Compose(string method, string target, ReadOnlySpan<byte> body, bool isJson)
    {
        var bytes = new ReadOnlyMemory<byte>(body.ToArray());
        var text = new StringBuilder(128)
            .Append("v1").Append(' ')
            .Append(Uri.EscapeDataString(method.ToUpperInvariant())).Append(' ')
            .Append(Uri.EscapeDataString(target)).Append(' ');
        if (bytes.IsEmpty)
        {
            return text.Append('-').ToString();
        }

        if (!isJson || !TryAppendJson(text, bytes))
        {
            text.Append("b:").Append(Convert.ToHexStringLower(XxHash128.Hash(bytes.Span)));
        }

        return text.ToString();
    }

    private static bool TryAppendJson(StringBuilder text, ReadOnlyMemory<byte> body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            string digest;
            try
            {
                digest = Digest(root);
            }
            catch (JsonException)
            {
                return false;
            }

            text.Append("j:").Append(digest);
            if (root.ValueKind != JsonValueKind.Object)
            {
                return true;
            }

            var members = new List<JsonProperty>();
            foreach (var member in root.EnumerateObject())
            {
                members.Add(member);
            }

            members.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            var listed = 0;
            var truncated = false;
            foreach (var member in members)
            {
                var escaped = Uri.EscapeDataString(member.Name);
                if (listed == MaxMembers || escaped.Length > MaxNameLength)
                {
                    truncated = true;
                    continue;
                }

                text.Append(' ').Append(escaped).Append('=').Append(MemberDigest(member.Value));
                listed++;
            }

            if (truncated)
            {
                text.Append(" +");
            }
        }

        return true;
    }

    /// <summary>A member's digest: the first 6 bytes, big-endian, of the XxHash3 of its canonical form, as hex.</summary>
    private static string MemberDigest(JsonElement element)
    {
        var hash = XxHash3.HashToUInt64(Canonicalize(element));
        return hash.ToString("x16", CultureInfo.InvariantCulture)[..MemberDigestLength];
    }

    /// <summary>A body's digest: the XxHash128 of its canonical form, big-endian, as hex.</summary>
    private static string Digest(JsonElement element) => Convert.ToHexStringLower(XxHash128.Hash(Canonicalize(element)));

    private static byte[] Canonicalize(JsonElement element)
    {
        var text = new StringBuilder();
        try
        {
            Write(element, text);
            return StrictUtf8.GetBytes(text.ToString());
        }
        catch (InvalidOperationException ex)
        {
            throw new JsonException(ex.Message, ex);
        }
        catch (EncoderFallbackException ex)
        {
            throw new JsonException(ex.Message, ex);
        }
    }

    private static void Write(JsonElement element, StringBuilder text)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var members = new List<(string Name, JsonElement Value)>();
                foreach (var property in element.EnumerateObject())
                {
                    members.Add((property.Name, property.Value));
                }

                members.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
                for (var i = 1; i < members.Count; i++)
                {
                    if (string.Equals(members[i - 1].Name, members[i].Name, StringComparison.Ordinal))
                    {
                        throw new JsonException("duplicate member name");
                    }
                }

                text.Append('{');
                for (var i = 0; i < members.Count; i++)
                {
                    if (i > 0)
                    {
                        text.Append(',');
                    }

                    WriteString(members[i].Name, text);
                    text.Append(':');
                    Write(members[i].Value, text);
                }

                text.Append('}');
                break;
            case JsonValueKind.Array:
                text.Append('[');
                var first = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!first)
                    {
                        text.Append(',');
                    }

                    first = false;
                    Write(item, text);
                }

                text.Append(']');
                break;
            case JsonValueKind.String:
                WriteString(element.GetString()!, text);
                break;
            case JsonValueKind.Number:
                WriteNumber(element.GetRawText(), text);
                break;
            case JsonValueKind.True:
                text.Append("true");
                break;
            case JsonValueKind.False:
                text.Append("false");
                break;
            default:
                text.Append("null");
                break;
        }
    }

    private static void WriteNumber(string raw, StringBuilder text)
    {
        var start = raw.StartsWith('-') ? 1 : 0;
        var digits = raw.Length - start;
        var verbatim = digits is >= 1 and <= 15 && raw[start] is >= '1' and <= '9';
        for (var i = start + 1; verbatim && i < raw.Length; i++)
        {
            verbatim = char.IsAsciiDigit(raw[i]);
        }

        if (verbatim)
        {
            text.Append(raw);
            return;
        }

        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw new JsonException("number out of range");
        }

        text.Append(FormatNumber(value));
    }

    private static string FormatNumber(double value)
    {
        if (value == 0)
        {
            return "0";
        }

        var (digits, point) = ShortestDigits(Math.Abs(value));
        var sign = value < 0 ? "-" : string.Empty;
        var count = digits.Length;
        if (count <= point && point <= 21)
        {
            return sign + digits + new string('0', point - count);
        }

        if (point is > 0 and <= 21)
        {
            return sign + digits[..point] + "." + digits[point..];
        }

        if (point is > -6 and <= 0)
        {
            return sign + "0." + new string('0', -point) + digits;
        }

        var exponent = point - 1;
        var mantissa = count == 1 ? digits : digits[..1] + "." + digits[1..];
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString(CultureInfo.InvariantCulture);
    }

    private static (string Digits, int Point) ShortestDigits(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        var exponentAt = text.IndexOfAny(['E', 'e']);
        var exponent = exponentAt < 0 ? 0 : int.Parse(text.AsSpan(exponentAt + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var mantissa = exponentAt < 0 ? text : text[..exponentAt];
        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var whole = dot < 0 ? mantissa : mantissa[..dot];
        var digits = dot < 0 ? mantissa : whole + mantissa[(dot + 1)..];
        var point = whole.Length + exponent;

        var leading = 0;
        while (leading < digits.Length - 1 && digits[leading] == '0')
        {
            leading++;
        }

        digits = digits[leading..].TrimEnd('0');
        return (digits, point - leading);
    }

    private static void WriteString(string value, StringBuilder text)
    {
        text.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    text.Append("\\\"");
                    break;
                case '\\':
                    text.Append("\\\\");
                    break;
                case '\b':
                    text.Append("\\b");
                    break;
                case '\f':
                    text.Append("\\f");
                    break;
                case '\n':
                    text.Append("\\n");
                    break;
                case '\r':
                    text.Append("\\r");
                    break;
                case '\t':
                    text.Append("\\t");
                    break;
                case < ' ':
                    text.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    break;
                default:
                    text.Append(c);
                    break;
            }
        }

        text.Append('"');
    }
}
