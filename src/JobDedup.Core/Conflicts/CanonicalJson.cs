using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace JobDedup;

/// <summary>
/// Writes a JSON document in the canonical form of RFC 8785 (the JSON Canonicalization Scheme): object members sorted
/// by the UTF-16 code units of their names, no white space, strings with only the escapes the scheme allows, and
/// numbers in the shortest form that reads back as the same IEEE 754 double, spelled as ECMAScript spells them.
/// </summary>
/// <remarks>
/// <para>
/// It reads the UTF-8 text once and writes UTF-8: each object's members are written as they come, then put in order
/// once the object ends, so that no document tree and no UTF-16 copy of the text is made.
/// </para>
/// <para>
/// A document the scheme cannot represent is refused with a <see cref="JsonException"/>: a duplicate member name, a
/// number outside the range of a double, a string holding an unpaired surrogate or bytes that are not UTF-8, or text
/// that is not JSON.
/// </para>
/// </remarks>
internal static class CanonicalJson
{
    /// <summary>The longest integer (in digits) that is spelled as written: every integer of 15 digits is exactly a double.</summary>
    private const int MaxVerbatimIntegerDigits = 15;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The chars a canonical string escapes: the quote, the backslash and the controls.</summary>
    private static readonly SearchValues<char> Escaped = SearchValues.Create(
        "\"\\\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000B\f\r\u000E\u000F" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F");

    [ThreadStatic]
    private static CanonicalWriter? _cachedWriter;

    /// <summary>Returns the canonical form of a UTF-8 JSON document.</summary>
    /// <param name="json">The document.</param>
    /// <returns>The canonical form, as UTF-8.</returns>
    /// <exception cref="JsonException">The document is not JSON, or the scheme cannot represent it.</exception>
    public static byte[] Canonicalize(ReadOnlySpan<byte> json)
    {
        var writer = RentWriter();
        try
        {
            writer.Write(json, members: null);
            return writer.Written.ToArray();
        }
        finally
        {
            ReturnWriter(writer);
        }
    }

    /// <summary>A writer for one canonical form: this thread's cached one when it is free.</summary>
    /// <returns>The writer; hand it back with <see cref="ReturnWriter(CanonicalWriter)"/>.</returns>
    public static CanonicalWriter RentWriter()
    {
        var writer = _cachedWriter ?? new CanonicalWriter();
        _cachedWriter = null;
        return writer;
    }

    /// <summary>Hands back a writer from <see cref="RentWriter"/>, to be cached for this thread (without what a large document made it hold).</summary>
    /// <param name="writer">The writer.</param>
    public static void ReturnWriter(CanonicalWriter writer)
    {
        writer.Reset();
        _cachedWriter = writer;
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

    /// <summary>
    /// Writes canonical forms into buffers it keeps between documents. One document at a time; see
    /// <see cref="RentWriter"/>.
    /// </summary>
    internal sealed class CanonicalWriter
    {
        /// <summary>The largest buffer kept between two documents.</summary>
        private const int MaxKeptBytes = 16 * 1024;

        private byte[] _bytes = new byte[256];
        private int _length;
        private char[] _names = new char[64];
        private int _namesLength;
        private byte[] _spare = [];
        private Member[] _members = new Member[16];
        private int _memberCount;

        /// <summary>Gets the canonical form written by the last <see cref="Write"/>.</summary>
        public ReadOnlySpan<byte> Written => _bytes.AsSpan(0, _length);

        /// <summary>Gets the name, unescaped, of a top-level member listed by the last <see cref="Write"/>.</summary>
        /// <param name="member">The member.</param>
        /// <returns>The name.</returns>
        public ReadOnlySpan<char> NameOf(CanonicalMember member) => _names.AsSpan(member.NameStart, member.NameLength);

        /// <summary>
        /// Writes the canonical form of a UTF-8 JSON document (see <see cref="Written"/>); when the document is an object
        /// and <paramref name="members"/> is given, adds to it where each member's value lies in that form, in
        /// canonical order. A member's range holds exactly the canonical form of its value.
        /// </summary>
        /// <exception cref="JsonException">The document is not JSON, or the scheme cannot represent it.</exception>
        public void Write(ReadOnlySpan<byte> json, List<CanonicalMember>? members)
        {
            _length = 0;
            _namesLength = 0;
            _memberCount = 0;
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            try
            {
                if (!reader.Read())
                {
                    throw new JsonException("The JSON document is empty.");
                }

                WriteValue(ref reader, members);
                if (reader.Read())
                {
                    throw new JsonException("The JSON document holds more than one value.");
                }
            }
            catch (InvalidOperationException ex)
            {
                // A string that does not decode to valid UTF-16 (invalid UTF-8, say).
                throw new JsonException($"The JSON document has no canonical form: {ex.Message}", ex);
            }
        }

        /// <summary>Lets go of buffers a large document grew, so that a thread does not hold them.</summary>
        public void Reset()
        {
            _length = 0;
            _namesLength = 0;
            _memberCount = 0;
            if (_bytes.Length > MaxKeptBytes)
            {
                _bytes = new byte[256];
            }

            if (_spare.Length > MaxKeptBytes)
            {
                _spare = [];
            }

            if (_names.Length > MaxKeptBytes)
            {
                _names = new char[64];
            }

            if (_members.Length > 1024)
            {
                _members = new Member[16];
            }
        }

        private void WriteValue(ref Utf8JsonReader reader, List<CanonicalMember>? members)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    WriteObject(ref reader, members);
                    break;
                case JsonTokenType.StartArray:
                    Append((byte)'[');
                    var first = true;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (!first)
                        {
                            Append((byte)',');
                        }

                        first = false;
                        WriteValue(ref reader, members: null);
                    }

                    Append((byte)']');
                    break;
                case JsonTokenType.String:
                    WriteStringValue(ref reader);
                    break;
                case JsonTokenType.Number:
                    WriteNumber(reader.ValueSpan);
                    break;
                case JsonTokenType.True:
                    Append("true"u8);
                    break;
                case JsonTokenType.False:
                    Append("false"u8);
                    break;
                default:
                    Append("null"u8);
                    break;
            }
        }

        /// <summary>
        /// Writes an object: its values as they come (each in canonical form), then the whole object again with its
        /// members in canonical order, from a copy of what was written.
        /// </summary>
        private void WriteObject(ref Utf8JsonReader reader, List<CanonicalMember>? members)
        {
            var start = _length;
            var firstMember = _memberCount;
            var namesStart = _namesLength;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                // The name, decoded to UTF-16: the scheme orders names by their code units.
                var nameStart = _namesLength;
                var nameLength = reader.CopyString(ReserveNames(reader.ValueSpan.Length));
                _namesLength += nameLength;
                reader.Read();
                var valueStart = _length;
                WriteValue(ref reader, members: null);
                AddMember(new Member(nameStart, nameLength, valueStart - start, _length - valueStart));
            }

            var count = _memberCount - firstMember;
            var order = _members.AsSpan(firstMember, count);
            SortByName(order);
            for (var i = 1; i < order.Length; i++)
            {
                if (NameOf(order[i - 1]).SequenceEqual(NameOf(order[i])))
                {
                    throw new JsonException($"The JSON document has no canonical form: member name \"{NameOf(order[i]).ToString()}\" appears twice in one object.");
                }
            }

            // The values as written, in document order; the object is written again over them, in canonical order.
            var valuesLength = _length - start;
            if (_spare.Length < valuesLength)
            {
                _spare = new byte[Math.Max(valuesLength, _spare.Length * 2)];
            }

            _bytes.AsSpan(start, valuesLength).CopyTo(_spare);
            _length = start;
            Append((byte)'{');
            for (var i = 0; i < order.Length; i++)
            {
                if (i > 0)
                {
                    Append((byte)',');
                }

                var member = order[i];
                var name = NameOf(member);
                WriteString(name);
                Append((byte)':');
                var at = _length;
                Append(_spare.AsSpan(member.ValueStart, member.ValueLength));
                members?.Add(new CanonicalMember(member.NameStart, member.NameLength, at, member.ValueLength));
            }

            Append((byte)'}');
            _memberCount = firstMember;
            if (members is null)
            {
                // A listed object's names stay, for NameOf; nothing is written after it.
                _namesLength = namesStart;
            }
        }

        /// <summary>Sorts members by the UTF-16 code units of their names (ordinal order); sorted, a name that appears twice appears twice in a row.</summary>
        private void SortByName(Span<Member> order)
        {
            if (order.Length > 16)
            {
                var names = _names;
                order.Sort((a, b) => names.AsSpan(a.NameStart, a.NameLength).SequenceCompareTo(names.AsSpan(b.NameStart, b.NameLength)));
                return;
            }

            // Objects mostly have a few members: an insertion sort, with no comparer to allocate.
            for (var i = 1; i < order.Length; i++)
            {
                var member = order[i];
                var j = i - 1;
                while (j >= 0 && NameOf(order[j]).SequenceCompareTo(NameOf(member)) > 0)
                {
                    order[j + 1] = order[j];
                    j--;
                }

                order[j + 1] = member;
            }
        }

        private ReadOnlySpan<char> NameOf(Member member) => _names.AsSpan(member.NameStart, member.NameLength);

        /// <summary>Writes a string value; one with no escape is copied as it stands once checked to be UTF-8.</summary>
        private void WriteStringValue(ref Utf8JsonReader reader)
        {
            // JSON allows neither a quote nor a control character unescaped in a string, so text with no escape is
            // already in canonical form, provided it is UTF-8 (which also rules out encoded surrogates).
            var raw = reader.ValueSpan;
            if (!reader.ValueIsEscaped)
            {
                if (!Utf8.IsValid(raw))
                {
                    throw new JsonException("The JSON document has no canonical form: a string is not valid UTF-8.");
                }

                Append((byte)'"');
                Append(raw);
                Append((byte)'"');
                return;
            }

            var start = _namesLength;
            var length = reader.CopyString(ReserveNames(raw.Length));
            WriteString(_names.AsSpan(start, length));
        }

        /// <summary>Writes a string with the escapes of the scheme: the two-character forms where JSON has them, \u00xx for other controls, nothing else escaped.</summary>
        /// <exception cref="JsonException">The string holds an unpaired surrogate.</exception>
        private void WriteString(ReadOnlySpan<char> value)
        {
            Append((byte)'"');
            var rest = value;
            while (true)
            {
                var at = rest.IndexOfAny(Escaped);
                AppendUtf8(at < 0 ? rest : rest[..at]);
                if (at < 0)
                {
                    break;
                }

                var c = rest[at];
                rest = rest[(at + 1)..];
                switch (c)
                {
                    case '"':
                        Append("\\\""u8);
                        break;
                    case '\\':
                        Append("\\\\"u8);
                        break;
                    case '\b':
                        Append("\\b"u8);
                        break;
                    case '\f':
                        Append("\\f"u8);
                        break;
                    case '\n':
                        Append("\\n"u8);
                        break;
                    case '\r':
                        Append("\\r"u8);
                        break;
                    case '\t':
                        Append("\\t"u8);
                        break;
                    default:
                        Append("\\u00"u8);
                        Append((byte)HexLower(c >> 4));
                        Append((byte)HexLower(c & 0xF));
                        break;
                }
            }

            Append((byte)'"');
        }

        private void WriteNumber(ReadOnlySpan<byte> raw)
        {
            if (IsVerbatimInteger(raw))
            {
                // ECMAScript spells such an integer as JSON wrote it (JSON has no leading zeros or plus sign).
                Append(raw);
                return;
            }

            if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                throw new JsonException($"The JSON document has no canonical form: the number {Encoding.UTF8.GetString(raw)} is outside the range of a double.");
            }

            // The spelling is ASCII.
            var spelled = FormatNumber(value);
            var span = Reserve(spelled.Length);
            for (var i = 0; i < spelled.Length; i++)
            {
                span[i] = (byte)spelled[i];
            }

            _length += spelled.Length;
        }

        /// <summary>Encodes text as UTF-8, refusing an unpaired surrogate as the scheme does.</summary>
        private void AppendUtf8(ReadOnlySpan<char> text)
        {
            if (text.IsEmpty)
            {
                return;
            }

            try
            {
                _length += StrictUtf8.GetBytes(text, Reserve(StrictUtf8.GetMaxByteCount(text.Length)));
            }
            catch (EncoderFallbackException ex)
            {
                throw new JsonException("The JSON document has no canonical form: a string holds an unpaired surrogate.", ex);
            }
        }

        private static char HexLower(int digit) => (char)(digit < 10 ? '0' + digit : 'a' + digit - 10);

        private void Append(byte value)
        {
            if (_length == _bytes.Length)
            {
                Grow(1);
            }

            _bytes[_length++] = value;
        }

        private void Append(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(Reserve(bytes.Length));
            _length += bytes.Length;
        }

        /// <summary>Room for <paramref name="count"/> more bytes, at the end of what is written.</summary>
        private Span<byte> Reserve(int count)
        {
            if (_bytes.Length - _length < count)
            {
                Grow(count);
            }

            return _bytes.AsSpan(_length, count);
        }

        private void Grow(int count) => Array.Resize(ref _bytes, (int)Math.Min(Math.Max((long)_bytes.Length * 2, (long)_length + count), Array.MaxLength));

        /// <summary>Room for a decoded string at the end of the names (a JSON string never decodes to more chars than its bytes).</summary>
        private Span<char> ReserveNames(int utf8Length)
        {
            if (_names.Length - _namesLength < utf8Length)
            {
                Array.Resize(ref _names, (int)Math.Min(Math.Max((long)_names.Length * 2, (long)_namesLength + utf8Length), Array.MaxLength));
            }

            return _names.AsSpan(_namesLength, utf8Length);
        }

        private void AddMember(Member member)
        {
            if (_memberCount == _members.Length)
            {
                Array.Resize(ref _members, _members.Length * 2);
            }

            _members[_memberCount++] = member;
        }

        /// <summary>One member of an object being written: its decoded name, and where its value lies from the object's start.</summary>
        private readonly record struct Member(int NameStart, int NameLength, int ValueStart, int ValueLength);
    }
}
