using System.Globalization;
using System.Text;
using JobDedup.AspNetCore.Fingerprints;

namespace JobDedup.AspNetCore.Tests.Fingerprints;

/// <summary>
/// Fingerprints are kept in shared stores across versions: whatever <see cref="RequestFingerprint"/> does to be fast,
/// it gives exactly the strings the first version gave (<see cref="ReferenceFingerprint"/>).
/// </summary>
public sealed class FingerprintCompatibilityTests
{
    public static TheoryData<string> JsonBodies()
    {
        var data = new TheoryData<string>
        {
            """{"item":"tea","quantity":1}""",
            """{ "quantity" : 1.0, "item" : "tea" }""",
            """{"a":{"z":1,"y":[1,2,{"c":null,"b":true,"a":false}]},"b":[],"c":{}}""",
            """[1,"two",{"three":3},[4]]""",
            """[]""",
            """{}""",
            "42",
            "\"tea\"",
            "true",
            "null",
            """{"n":[1e21,1e20,0.1,-0,0,-0.0,12345678901234567,123456789012345,-123456789012345,1E-7,0.000001,5e-324,1.7976931348623157e308,100,1.5,-2.5e-3,4999.0,1e+2]}""",
            """{"big":1e400}""",
            """{"s":"quote \" backslash \\ slash \/ controls \b\f\n\r\t \u0001 \u001f \u007f","u":"caf\u00e9 café 日本 😀 \ud83d\ude00"}""",
            """{"bad":"\ud800"}""",
            """{"bad":"x\udc00y"}""",
            """{"name with space":1,"é":2,"a/b?c=d&e":3,"%41":4,"emoji😀":5,"":6,"tab\there":7,"quote\"d":8}""",
            """{"a":1,"a":2}""",
            """{"outer":{"a":1,"a":2}}""",
            """{not json""",
            """{"a":1}{"b":2}""",
            """ { "padded" : [ 1 , 2 ] } """,
            """{"A":1,"a":2,"B":3,"b":4,"_":5,"~":6,"aa":7,"a0":8}""",
            "{\"" + new string('n', 96) + "\":1,\"" + new string('m', 97) + "\":2,\"short\":3}",
            "{\"" + string.Concat(Enumerable.Repeat("é", 17)) + "\":1}",
            "{\"" + string.Concat(Enumerable.Repeat("é", 16)) + "\":1}",
            "{" + string.Join(",", Enumerable.Range(0, 70).Select(i => $"\"m{i}\":{i}")) + "}",
            "{" + string.Join(",", Enumerable.Range(0, 64).Select(i => $"\"k{i:D2}\":[{i},\"{i}\"]")) + "}",
            "{" + string.Join(",", Enumerable.Range(0, 63).Select(i => $"\"k{i:D2}\":{i}")) + ",\"" + new string('x', 100) + "\":0}",
            new string('[', 64) + new string(']', 64),
            new string('[', 65) + new string(']', 65),
            "{\"deep\":" + new string('[', 63) + new string(']', 63) + "}",
            "\"" + new string('t', 5000) + "\"",
            "{\"long\":\"" + new string('t', 5000) + "\",\"other\":\"" + string.Concat(Enumerable.Repeat("日本", 3000)) + "\"}",
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(JsonBodies))]
    public void Compose_AJsonBody_GivesTheFirstVersionsFingerprint(string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);

        Assert.Equal(ReferenceFingerprint.Compose("POST", "/orders", bytes, isJson: true), RequestFingerprint.Compose("POST", "/orders", bytes, isJson: true));
        Assert.Equal(ReferenceFingerprint.Compose("POST", "/orders", bytes, isJson: false), RequestFingerprint.Compose("POST", "/orders", bytes, isJson: false));
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF, (byte)'{', (byte)'}' })]
    [InlineData(new byte[] { (byte)'"', 0xC3, (byte)'"' })]
    [InlineData(new byte[] { (byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}' })]
    [InlineData(new byte[] { (byte)'"', 0xED, 0xA0, 0x80, (byte)'"' })]
    [InlineData(new byte[] { 0, 1, 2, 3 })]
    public void Compose_OddBytes_GiveTheFirstVersionsFingerprint(byte[] body)
    {
        Assert.Equal(ReferenceFingerprint.Compose("POST", "/orders", body, isJson: true), RequestFingerprint.Compose("POST", "/orders", body, isJson: true));
        Assert.Equal(ReferenceFingerprint.Compose("POST", "/orders", body, isJson: false), RequestFingerprint.Compose("POST", "/orders", body, isJson: false));
    }

    [Theory]
    [InlineData("post", "/orders")]
    [InlineData("PATCH", "/v1/orders/1?x=1 2&y=é")]
    [InlineData("Custom Verb", "/a%20b/c?d=%2F")]
    [InlineData("put", "")]
    [InlineData("ıi", "/ünïcode/😀")]
    public void Compose_AnyMethodAndTarget_GivesTheFirstVersionsFingerprint(string method, string target)
    {
        var body = """{"b":1,"a":2}"""u8;

        Assert.Equal(ReferenceFingerprint.Compose(method, target, body, isJson: true), RequestFingerprint.Compose(method, target, body, isJson: true));
        Assert.Equal(ReferenceFingerprint.Compose(method, target, [], isJson: true), RequestFingerprint.Compose(method, target, [], isJson: true));
    }

    [Fact]
    public void Compose_GeneratedJson_GivesTheFirstVersionsFingerprint()
    {
        var random = new Random(8785);
        for (var i = 0; i < 2000; i++)
        {
            var text = new StringBuilder();
            WriteRandom(random, text, depth: 0, objectRoot: i % 2 == 0);
            var bytes = Encoding.UTF8.GetBytes(text.ToString());

            Assert.Equal(ReferenceFingerprint.Compose("POST", "/r", bytes, isJson: true), RequestFingerprint.Compose("POST", "/r", bytes, isJson: true));
        }
    }

    private static void WriteRandom(Random random, StringBuilder text, int depth, bool objectRoot = false)
    {
        var kind = objectRoot ? 0 : random.Next(depth > 4 ? 2 : 0, 8);
        switch (kind)
        {
            case 0:
                text.Append('{');
                var members = random.Next(0, depth == 0 ? 80 : 6);
                for (var i = 0; i < members; i++)
                {
                    if (i > 0)
                    {
                        text.Append(", ");
                    }

                    WriteRandomString(random, text);
                    text.Append(" : ");
                    WriteRandom(random, text, depth + 1);
                }

                text.Append('}');
                break;
            case 1:
                text.Append('[');
                var items = random.Next(0, 6);
                for (var i = 0; i < items; i++)
                {
                    if (i > 0)
                    {
                        text.Append(',');
                    }

                    WriteRandom(random, text, depth + 1);
                }

                text.Append(']');
                break;
            case 2:
            case 3:
                WriteRandomString(random, text);
                break;
            case 4:
                text.Append(random.Next(-1_000_000, 1_000_000).ToString(CultureInfo.InvariantCulture));
                break;
            case 5:
                string[] spellings = ["0.1", "-0", "1e21", "1E-7", "12345678901234567", "-9007199254740993", "3.14159", "2.50", "1e308", "0e5", "100.000"];
                text.Append(spellings[random.Next(spellings.Length)]);
                break;
            case 6:
                text.Append((random.NextDouble() * Math.Pow(10, random.Next(-30, 30))).ToString("R", CultureInfo.InvariantCulture));
                break;
            default:
                string[] literals = ["true", "false", "null"];
                text.Append(literals[random.Next(literals.Length)]);
                break;
        }
    }

    private static void WriteRandomString(Random random, StringBuilder text)
    {
        string[] pieces = ["a", "b", "Z", "_", "id", " ", "é", "日", "😀", "\\n", "\\\"", "\\\\", "\\u0041", "\\u00e9", "\\u001f", "\\/", "~", "%", "+"];
        text.Append('"');
        var count = random.Next(0, 5);
        for (var i = 0; i < count; i++)
        {
            text.Append(pieces[random.Next(pieces.Length)]);
        }

        text.Append('"');
    }
}
