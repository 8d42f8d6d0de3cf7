using System.Globalization;
using System.Text;
using System.Text.Json;

namespace JobDedup;

/// <summary>
/// Writes a JSON document in the canonical form of RFC 8785 (the JSON Canonicalization Scheme): object members sorted
/// by the UTF-16 code units of their names, no white space, strings with only the escapes the scheme allows, and
/// numbers in the shortest form that reads back as the same IEEE 754 double, spelled as ECMAScript spells them.
/// </summary>
/// <remarks>
/// A document the scheme cannot represent is refused with a <see cref="JsonException"/>: a duplicate member name, a
/// number outside the range of a double, a string holding an unpaired surrogate, or text that is not JSON.
/// </remarks>
internal static class CanonicalJson
{
    private const int MaxCachedTextCapacity = 4096;

    /// <summary>The longest integer (in digits) that is spelled as written: every integer of 15 digits is exactly a double.</summary>
    private const int MaxVerbatimIntegerDigits = 15;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    [ThreadStatic]
    private static StringBuilder? _cachedText;

    /// <summary>Returns the canonical form of a UTF-8 JSON document.</summary>
    /// <param name="json">The document.</param>
    /// <returns>The canonical form, as UTF-8.</returns>
    /// <exception cref="JsonException">The document is not JSON, or the scheme cannot represent it.</exception>
    public static byte[] Canonicalize(ReadOnlySpan<byte> json)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        return Canonicalize(document.RootElement);
    }

    /// <summary>Returns the canonical form of a parsed JSON value (a whole document, or one value inside it).</summary>
    /// <param name="element">The value.</param>
    /// <returns>The canonical form, as UTF-8.</returns>
    /// <exception cref="JsonException">The scheme cannot represent the value.</exception>
    public static byte[] Canonicalize(JsonElement element)
    {
        var text = RentText();
        try
        {
            Write(element, text);
            return StrictUtf8.GetBytes(text.ToString());
        }
        catch (InvalidOperationException ex)
        {
            // A string that does not decode to valid UTF-16 (an unpaired surrogate escape, say).
            throw new JsonException($"The JSON document has no canonical form: {ex.Message}", ex);
        }
        catch (EncoderFallbackException ex)
        {
            throw new JsonException("The JSON document has no canonical form: a string holds an unpaired surrogate.", ex);
        }
        finally
        {
            ReturnText(text);
        }
    }

    /// <summary>A cleared builder for one canonical form: this thread's cached one when it is free.</summary>
    private static StringBuilder RentText()
    {
        var text = _cachedText ?? new StringBuilder(256);
        _cachedText = null;
        return text.Clear();
    }

    private static void ReturnText(StringBuilder text)
    {
        // A builder grown by a large document is let go rather than held by the thread.
        if (text.Capacity <= MaxCachedTextCapacity)
        {
            _cachedText = text;
        }
    }

    /// <summary>Spells a number as ECMAScript's <c>Number.prototype.toString</c> does, which RFC 8785 adopts.</summary>
    /// <param name="value">The number; finite.</param>
    /// <returns>The spelling.</returns>
    /// <exception cref="JsonException"><paramref name="value"/> is not finite.</exception>
    public static string FormatNumber(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new JsonException($"The number {value.ToString(CultureInfo.InvariantCulture)} has no JSON form.");
        }

        if (value == 0)
        {
            return "0"; // and -0 too
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

    /// <summary>
    /// The shortest digits that read back as <paramref name="value"/>, without leading or trailing zeros, and where the
    /// decimal point goes: the value is 0.<c>digits</c> × 10^<c>point</c>.
    /// </summary>
    private static (string Digits, int Point) ShortestDigits(double value)
    {
        // "R" gives the shortest round-trip digits, as "1.2345E+21", "0.0001" or "123".
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

    private static void Write(JsonElement element, StringBuilder text)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(element, text);
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

    private static void WriteObject(JsonElement element, StringBuilder text)
    {
        var members = new List<(string Name, JsonElement Value)>();
        foreach (var property in element.EnumerateObject())
        {
            members.Add((property.Name, property.Value));
        }

        // Ordinal order on .NET strings is the order of their UTF-16 code units, as the scheme asks. Sorted, a name
        // that appears twice appears twice in a row.
        members.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        for (var i = 1; i < members.Count; i++)
        {
            if (string.Equals(members[i - 1].Name, members[i].Name, StringComparison.Ordinal))
            {
                throw new JsonException($"The JSON document has no canonical form: member name \"{members[i].Name}\" appears twice in one object.");
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
    }

    private static void WriteNumber(string raw, StringBuilder text)
    {
        if (IsVerbatimInteger(raw))
        {
            // ECMAScript spells such an integer as JSON wrote it (JSON has no leading zeros or plus sign).
            text.Append(raw);
            return;
        }

        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw new JsonException($"The JSON document has no canonical form: the number {raw} is outside the range of a double.");
        }

        text.Append(FormatNumber(value));
    }

    /// <summary>Whether a JSON number is a nonzero integer of at most <see cref="MaxVerbatimIntegerDigits"/> digits.</summary>
    private static bool IsVerbatimInteger(string raw)
    {
        var start = raw.StartsWith('-') ? 1 : 0;
        var digits = raw.Length - start;
        if (digits is < 1 or > MaxVerbatimIntegerDigits || raw[start] is < '1' or > '9')
        {
            return false;
        }

        for (var i = start + 1; i < raw.Length; i++)
        {
            if (!char.IsAsciiDigit(raw[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Writes a string with the escapes of the scheme: the two-character forms where JSON has them, \u00xx for other controls, nothing else escaped.</summary>
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
