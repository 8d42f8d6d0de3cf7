using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
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

    /// <summary>The chars a canonical string escapes: the quote, the backslash and the controls.</summary>
    private static readonly SearchValues<char> Escaped = SearchValues.Create(
        "\"\\\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000B\f\r\u000E\u000F" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F");

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
            Write(element, text, members: null);
            return GetUtf8Bytes(text.ToString());
        }
        finally
        {
            ReturnText(text);
        }
    }

    /// <summary>
    /// Appends the canonical form of a parsed JSON value to <paramref name="text"/>, as UTF-16 (see
    /// <see cref="GetUtf8Bytes(ReadOnlySpan{char}, Span{byte})"/> for the bytes); when the value is an object and
    /// <paramref name="members"/> is given, adds to it where each member's value lies in that text, in canonical order.
    /// </summary>
    /// <remarks>
    /// A member's range holds exactly the canonical form of its value, so that one pass serves a document's digest and
    /// each of its members'. A string holding an unpaired surrogate is written as it is: it is refused when encoded.
    /// </remarks>
    /// <param name="element">The value.</param>
    /// <param name="text">Where to write it.</param>
    /// <param name="members">Where to record the ranges of the top-level members' values, or <see langword="null"/>.</param>
    /// <exception cref="JsonException">The scheme cannot represent the value.</exception>
    public static void Write(JsonElement element, StringBuilder text, List<CanonicalMember>? members)
    {
        try
        {
            if (members is not null && element.ValueKind == JsonValueKind.Object)
            {
                WriteObject(element, text, members);
            }
            else
            {
                Write(element, text);
            }
        }
        catch (InvalidOperationException ex)
        {
            // A string that does not decode to valid UTF-16 (invalid UTF-8, say).
            throw new JsonException($"The JSON document has no canonical form: {ex.Message}", ex);
        }
    }

    /// <summary>Encodes canonical text as UTF-8, refusing an unpaired surrogate as the scheme does.</summary>
    /// <param name="text">The text (or a part of it that splits no surrogate pair).</param>
    /// <param name="bytes">Where to write the bytes; at least <see cref="Encoding.GetMaxByteCount(int)"/> long.</param>
    /// <returns>How many bytes were written.</returns>
    /// <exception cref="JsonException">The text holds an unpaired surrogate.</exception>
    public static int GetUtf8Bytes(ReadOnlySpan<char> text, Span<byte> bytes)
    {
        try
        {
            return StrictUtf8.GetBytes(text, bytes);
        }
        catch (EncoderFallbackException ex)
        {
            throw Unpaired(ex);
        }
    }

    /// <summary>The most bytes <see cref="GetUtf8Bytes(ReadOnlySpan{char}, Span{byte})"/> writes for this many chars.</summary>
    /// <param name="chars">How many chars.</param>
    /// <returns>The most bytes.</returns>
    public static int GetMaxUtf8ByteCount(int chars) => StrictUtf8.GetMaxByteCount(chars);

    private static byte[] GetUtf8Bytes(string text)
    {
        try
        {
            return StrictUtf8.GetBytes(text);
        }
        catch (EncoderFallbackException ex)
        {
            throw Unpaired(ex);
        }
    }

    private static JsonException Unpaired(EncoderFallbackException ex) =>
        new("The JSON document has no canonical form: a string holds an unpaired surrogate.", ex);

    /// <summary>A cleared builder for one canonical form: this thread's cached one when it is free.</summary>
    /// <returns>The builder; hand it back with <see cref="ReturnText(StringBuilder)"/>.</returns>
    public static StringBuilder RentText()
    {
        var text = _cachedText ?? new StringBuilder(256);
        _cachedText = null;
        return text.Clear();
    }

    /// <summary>Hands back a builder from <see cref="RentText"/>, to be cached for this thread unless it grew large.</summary>
    /// <param name="text">The builder.</param>
    public static void ReturnText(StringBuilder text)
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
                WriteObject(element, text, members: null);
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
                WriteStringValue(element, text);
                break;
            case JsonValueKind.Number:
                WriteNumber(JsonMarshal.GetRawUtf8Value(element), text);
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

    private static void WriteObject(JsonElement element, StringBuilder text, List<CanonicalMember>? members)
    {
        var count = element.GetPropertyCount();
        var rented = ArrayPool<(string Name, JsonElement Value)>.Shared.Rent(count);
        var sorted = rented.AsSpan(0, count);
        try
        {
            var at = 0;
            foreach (var property in element.EnumerateObject())
            {
                sorted[at++] = (property.Name, property.Value);
            }

            // Ordinal order on .NET strings is the order of their UTF-16 code units, as the scheme asks. Sorted, a name
            // that appears twice appears twice in a row.
            sorted.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            for (var i = 1; i < sorted.Length; i++)
            {
                if (string.Equals(sorted[i - 1].Name, sorted[i].Name, StringComparison.Ordinal))
                {
                    throw new JsonException($"The JSON document has no canonical form: member name \"{sorted[i].Name}\" appears twice in one object.");
                }
            }

            text.Append('{');
            for (var i = 0; i < sorted.Length; i++)
            {
                if (i > 0)
                {
                    text.Append(',');
                }

                WriteString(sorted[i].Name, text);
                text.Append(':');
                var start = text.Length;
                Write(sorted[i].Value, text);
                members?.Add(new CanonicalMember(sorted[i].Name, start, text.Length - start));
            }

            text.Append('}');
        }
        finally
        {
            // The pool keeps the array: let go of the names and the document it points into.
            sorted.Clear();
            ArrayPool<(string Name, JsonElement Value)>.Shared.Return(rented);
        }
    }

    private static void WriteNumber(ReadOnlySpan<byte> raw, StringBuilder text)
    {
        if (IsVerbatimInteger(raw))
        {
            // ECMAScript spells such an integer as JSON wrote it (JSON has no leading zeros or plus sign).
            AppendAscii(raw, text);
            return;
        }

        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw new JsonException($"The JSON document has no canonical form: the number {Encoding.UTF8.GetString(raw)} is outside the range of a double.");
        }

        text.Append(FormatNumber(value));
    }

    /// <summary>Whether a JSON number is a nonzero integer of at most <see cref="MaxVerbatimIntegerDigits"/> digits.</summary>
    private static bool IsVerbatimInteger(ReadOnlySpan<byte> raw)
    {
        var start = raw.Length > 0 && raw[0] == (byte)'-' ? 1 : 0;
        var digits = raw.Length - start;
        if (digits is < 1 or > MaxVerbatimIntegerDigits || raw[start] is < (byte)'1' or > (byte)'9')
        {
            return false;
        }

        return !raw[(start + 1)..].ContainsAnyExceptInRange((byte)'0', (byte)'9');
    }

    /// <summary>Writes a string value; one of plain ASCII with no escape is copied from the document as it stands.</summary>
    private static void WriteStringValue(JsonElement element, StringBuilder text)
    {
        // The raw value, quotes included. JSON allows neither a quote nor a control character unescaped in a string,
        // so ASCII without a backslash is already in canonical form.
        var raw = JsonMarshal.GetRawUtf8Value(element);
        if (raw.IndexOf((byte)'\\') < 0 && Ascii.IsValid(raw))
        {
            AppendAscii(raw, text);
            return;
        }

        WriteString(element.GetString()!, text);
    }

    /// <summary>Appends ASCII bytes as chars.</summary>
    private static void AppendAscii(ReadOnlySpan<byte> ascii, StringBuilder text)
    {
        const int StackLimit = 256;
        char[]? rented = null;
        var chars = ascii.Length <= StackLimit ? stackalloc char[StackLimit] : (rented = ArrayPool<char>.Shared.Rent(ascii.Length));
        Ascii.ToUtf16(ascii, chars, out var written);
        text.Append(chars[..written]);
        if (rented is not null)
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>Writes a string with the escapes of the scheme: the two-character forms where JSON has them, \u00xx for other controls, nothing else escaped.</summary>
    private static void WriteString(string value, StringBuilder text)
    {
        text.Append('"');
        var rest = value.AsSpan();
        while (true)
        {
            var at = rest.IndexOfAny(Escaped);
            if (at < 0)
            {
                text.Append(rest);
                break;
            }

            text.Append(rest[..at]);
            var c = rest[at];
            rest = rest[(at + 1)..];
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
                default:
                    text.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    break;
            }
        }

        text.Append('"');
    }
}
