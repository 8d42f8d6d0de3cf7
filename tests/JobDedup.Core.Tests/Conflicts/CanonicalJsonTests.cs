using System.Globalization;
using System.Text;
using System.Text.Json;

namespace JobDedup.Core.Tests.Conflicts;

/// <summary>The canonical form of RFC 8785, checked against the examples and the number table of the RFC.</summary>
public sealed class CanonicalJsonTests
{
    [Fact]
    public void Canonicalize_TheRfcSampleObject_GivesTheRfcOutput()
    {
        const string input = """
            {
              "numbers": [333333333.33333329, 1E30, 4.50,
                          2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """;

        var canonical = Canonical(input);

        Assert.Equal("""{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}""", canonical);
    }

    [Fact]
    public void Canonicalize_TheRfcSortingExample_SortsMembersByUtf16CodeUnits()
    {
        const string input = """
            {
              "\u20ac": "Euro Sign",
              "\r": "Carriage Return",
              "\ufb33": "Hebrew Letter Dalet With Dagesh",
              "1": "One",
              "\ud83d\ude00": "Emoji: Grinning Face",
              "\u0080": "Control",
              "\u00f6": "Latin Small Letter O With Diaeresis"
            }
            """;

        var canonical = Canonical(input);

        // The emoji (a surrogate pair, D83D…) sorts before U+FB33 by code units, though after it by code points.
        Assert.Equal(
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\"," +
            "\"\u20ac\":\"Euro Sign\",\"\ud83d\ude00\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}",
            canonical);
    }

    [Theory]
    [InlineData("[1,-7,10,4999]", "[1,-7,10,4999]")]
    [InlineData("[123456789012345,-999999999999999]", "[123456789012345,-999999999999999]")]
    [InlineData("[1234567890123456789,9007199254740993]", "[1234567890123456800,9007199254740992]")]
    [InlineData("[0,-0,10.0,1e2,-0.0]", "[0,0,10,100,0]")]
    public void Canonicalize_Integers_AreSpelledAsTheirDoubleIsWhateverTheirLength(string json, string expected) =>
        Assert.Equal(expected, Canonical(json));

    [Theory]
    [InlineData("0000000000000000", "0")]
    [InlineData("8000000000000000", "0")]
    [InlineData("0000000000000001", "5e-324")]
    [InlineData("8000000000000001", "-5e-324")]
    [InlineData("7fefffffffffffff", "1.7976931348623157e+308")]
    [InlineData("ffefffffffffffff", "-1.7976931348623157e+308")]
    [InlineData("4340000000000000", "9007199254740992")]
    [InlineData("c340000000000000", "-9007199254740992")]
    [InlineData("4430000000000000", "295147905179352830000")]
    [InlineData("44b52d02c7e14af5", "9.999999999999997e+22")]
    [InlineData("44b52d02c7e14af6", "1e+23")]
    [InlineData("44b52d02c7e14af7", "1.0000000000000001e+23")]
    [InlineData("444b1ae4d6e2ef4e", "999999999999999700000")]
    [InlineData("444b1ae4d6e2ef4f", "999999999999999900000")]
    [InlineData("444b1ae4d6e2ef50", "1e+21")]
    [InlineData("3eb0c6f7a0b5ed8c", "9.999999999999997e-7")]
    [InlineData("3eb0c6f7a0b5ed8d", "0.000001")]
    [InlineData("41b3de4355555553", "333333333.3333332")]
    [InlineData("41b3de4355555554", "333333333.33333325")]
    [InlineData("41b3de4355555555", "333333333.3333333")]
    [InlineData("41b3de4355555556", "333333333.3333334")]
    [InlineData("41b3de4355555557", "333333333.33333343")]
    [InlineData("becbf647612f3696", "-0.0000033333333333333333")]
    [InlineData("43143ff3c1cb0959", "1424953923781206.2")]
    public void FormatNumber_TheRfcNumberTable_SpellsEachAsEcmaScriptDoes(string ieeeBits, string expected)
    {
        var value = BitConverter.Int64BitsToDouble(unchecked((long)ulong.Parse(ieeeBits, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));

        Assert.Equal(expected, CanonicalJson.FormatNumber(value));

        // And the same through a whole document, read from the shortest spelling .NET gives.
        var json = "[" + value.ToString("R", CultureInfo.InvariantCulture) + "]";
        Assert.Equal("[" + expected + "]", Canonical(json));
    }

    [Theory]
    [InlineData("7fffffffffffffff")]
    [InlineData("7ff0000000000000")]
    [InlineData("fff0000000000000")]
    public void FormatNumber_NaNOrInfinity_IsRefused(string ieeeBits)
    {
        var value = BitConverter.Int64BitsToDouble(unchecked((long)ulong.Parse(ieeeBits, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));

        Assert.Throws<JsonException>(() => CanonicalJson.FormatNumber(value));
    }

    [Theory]
    [InlineData("[1e400]", "outside the range")]
    [InlineData("""{"a":1,"a":2}""", "appears twice")]
    [InlineData("""{"a":{"b":1,"b":1}}""", "appears twice")]
    [InlineData("""["\ud800"]""", "no canonical form")]
    [InlineData("""{"a":1,}""", null)]
    [InlineData("{} {}", null)]
    [InlineData("", null)]
    public void Canonicalize_ADocumentWithNoCanonicalForm_ThrowsJsonException(string json, string? says)
    {
        var ex = Assert.ThrowsAny<JsonException>(() => CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(json)));

        if (says is not null)
        {
            Assert.Contains(says, ex.Message);
        }
    }

    [Fact]
    public void FromJson_FormattingVariantsOfOneDocument_GiveOneFingerprint()
    {
        const string compact = """{"amount":1000,"currency":"EUR","items":[{"qty":2,"sku":"A-1"}],"note":"é\n"}""";
        const string spaced = """
            {
              "note" : "\u00e9\n",
              "items" : [ { "sku" : "A\u002d1", "qty" : 2.0 } ],
              "currency" : "\u0045UR",
              "amount" : 1e3
            }
            """;

        var a = JobFingerprint.FromJson(Encoding.UTF8.GetBytes(compact));
        var b = JobFingerprint.FromJson(Encoding.UTF8.GetBytes(spaced));

        Assert.Equal(a, b);
        Assert.Matches("^[0-9a-f]{64}$", a);
    }

    [Fact]
    public void FromJson_AByteArrayOfJson_IsReadAsJsonText()
    {
        byte[] json = Encoding.UTF8.GetBytes("""{"b":1,"a":2}""");

        Assert.Equal(JobFingerprint.FromBytes("{\"a\":2,\"b\":1}"u8), JobFingerprint.FromJson(json));
    }

    [Fact]
    public void FromJson_ADifferentValue_GivesAnotherFingerprint()
    {
        var a = JobFingerprint.FromJson("""{"amount":1000,"currency":"EUR"}"""u8);
        var b = JobFingerprint.FromJson("""{"amount":1001,"currency":"EUR"}"""u8);
        var c = JobFingerprint.FromJson("""{"amount":"1000","currency":"EUR"}"""u8);

        Assert.NotEqual(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void FromValue_EqualsTheFingerprintOfItsJsonReordered()
    {
        var fromValue = JobFingerprint.FromValue(new Charge("EUR", 1000));
        var fromText = JobFingerprint.FromJson("""{ "Amount": 1000, "Currency": "EUR" }"""u8);

        Assert.Equal(fromText, fromValue);
    }

    private static string Canonical(string json) => Encoding.UTF8.GetString(CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(json)));

    private sealed record Charge(string Currency, int Amount);
}
