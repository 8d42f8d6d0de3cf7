using System.Text;
using JobDedup.AspNetCore.Fingerprints;

namespace JobDedup.AspNetCore.Tests.Fingerprints;

/// <summary>The parts of a fingerprint are escaped exactly as <see cref="Uri.EscapeDataString(string)"/> escapes them.</summary>
public sealed class DataEscapeTests
{
    public static TheoryData<string> Texts()
    {
        var data = new TheoryData<string>
        {
            string.Empty,
            "POST",
            "/orders/42",
            "/filtered/cheap?x=1&y=%20z",
            "name with space",
            "a/b?c=d&e#f",
            "%41",
            "tab\there\nnew\0line\u007f",
            "-._~ unreserved and !*'();:@&=+$,/?#[] reserved",
            "café",
            "emoji😀",
            "lone \ud800 surrogate",
            "日本",
            new string('x', 300),
            new string('/', 100),
        };

        // Every ASCII character, alone and in a run.
        for (var c = 0; c < 128; c++)
        {
            data.Add(((char)c).ToString());
        }

        data.Add(string.Concat(Enumerable.Range(0, 128).Select(c => (char)c)));
        return data;
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public void TryAppend_GivesWhatUriGives(string text)
    {
        var builder = new StringBuilder("before ");

        Assert.True(DataEscape.TryAppend(builder, text, int.MaxValue));
        Assert.Equal("before " + Uri.EscapeDataString(text), builder.ToString());
    }

    [Theory]
    [InlineData("abc", 2)]
    [InlineData("a b", 3)]
    [InlineData("a b", 4)]
    [InlineData("é", 5)]
    [InlineData("abcdef ", 8)]
    public void TryAppend_LongerEscapedThanAllowed_AppendsNothing(string text, int maxLength)
    {
        var builder = new StringBuilder("before");

        Assert.False(DataEscape.TryAppend(builder, text, maxLength));
        Assert.Equal("before", builder.ToString());
    }

    [Theory]
    [InlineData("a b", 5)]
    [InlineData("é", 6)]
    [InlineData("abc", 3)]
    public void TryAppend_JustShortEnoughEscaped_IsAppended(string text, int maxLength)
    {
        var builder = new StringBuilder();

        Assert.True(DataEscape.TryAppend(builder, text, maxLength));
        Assert.Equal(Uri.EscapeDataString(text), builder.ToString());
    }
}
