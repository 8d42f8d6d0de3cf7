using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Keys;

public sealed class KeyPolicyTests
{
    public static TheoryData<string, string> RefusedKeys => new()
    {
        { "j\r\nX-Evil: 1\u0000", "U+000D at index 1" },
        { "nul\u0000", "U+0000" },
        { "tab\there", "U+0009" },
        { "del\u007F", "U+007F" },
        { "c1\u0085", "U+0085" },
        { "line\u2028sep", "line separator U+2028" },
        { "para\u2029sep", "paragraph separator U+2029" },
    };

    [Theory]
    [InlineData("order-42")]
    [InlineData("café-ключ-✓")]
    [InlineData("emoji-👍🏽-family-👨‍👩‍👧")]
    [InlineData(" spaces are fine ")]
    [InlineData("\u00A0nbsp-is-not-a-control")]
    public void TryValidate_OrdinaryAndUnicodeKeys_AreAccepted(string key)
    {
        Assert.True(KeyPolicy.Default.TryValidate(key, out var reason), reason);
    }

    [Theory]
    [MemberData(nameof(RefusedKeys))]
    public void TryValidate_ControlCharactersSeparatorsAndLoneSurrogates_AreRefusedWithTheCodePoint(string key, string expected)
    {
        Assert.False(KeyPolicy.Default.TryValidate(key, out var reason));

        Assert.Contains(expected, reason);
        Assert.DoesNotContain("X-Evil", reason);
    }

    [Fact]
    public void TryValidate_LoneSurrogates_AreRefusedWithTheCodePoint()
    {
        // Not theory data: the test runner's serialization would replace a lone surrogate with U+FFFD.
        Assert.False(KeyPolicy.Default.TryValidate("lone\uD800", out var high));
        Assert.False(KeyPolicy.Default.TryValidate("\uDC00lone", out var low));
        Assert.False(KeyPolicy.Default.TryValidate("pair-reversed\uDC00\uD800", out var reversed));

        Assert.Contains("lone surrogate U+D800 at index 4", high);
        Assert.Contains("lone surrogate U+DC00 at index 0", low);
        Assert.Contains("lone surrogate U+DC00 at index 13", reversed);
    }

    [Fact]
    public void TryValidate_KeyExactlyAtTheLimitInUtf8Bytes_IsAcceptedAndOneByteMoreIsRefused()
    {
        var policy = new KeyPolicy(maxKeyBytes: 10);
        var atLimit = "ключ-" + "a"; // 4 Cyrillic letters of 2 bytes, a dash and one letter: 10 bytes, 6 chars
        var over = "ключ-" + "ab";

        Assert.True(policy.TryValidate(atLimit, out _));
        Assert.False(policy.TryValidate(over, out var reason));
        Assert.Contains("11 UTF-8 bytes", reason);
        Assert.Contains("MaxKeyBytes", reason);
    }

    [Fact]
    public void TryValidate_SurrogatePairsCountAsFourBytes()
    {
        var policy = new KeyPolicy(maxKeyBytes: 8);

        Assert.True(policy.TryValidate("👍👍", out _));
        Assert.False(policy.TryValidate("👍👍a", out _));
    }

    [Fact]
    public void TryValidate_DefaultLimitIs1024Bytes()
    {
        Assert.Equal(1024, KeyPolicy.Default.MaxKeyBytes);
        Assert.True(KeyPolicy.Default.TryValidate(new string('k', 1024), out _));
        Assert.False(KeyPolicy.Default.TryValidate(new string('k', 1025), out _));
        Assert.False(KeyPolicy.Default.TryValidate(new string('é', 513), out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(KeyPolicy.LargestMaxKeyBytes + 1)]
    public void Constructor_LimitOutOfRange_Throws(int maxKeyBytes)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeyPolicy(maxKeyBytes));
    }

    [Fact]
    public async Task EnqueueAsync_ExplicitKeyWithCrLf_ThrowsArgumentExceptionNamingKeyAndNeverRunsTheHandler()
    {
        var runs = 0;
        await using var dedup = Dedup.Create((job, _, _) =>
        {
            Interlocked.Increment(ref runs);
            return ValueTask.FromResult("v");
        });

        var error = Assert.Throws<ArgumentException>(() => { _ = dedup.EnqueueAsync("j\r\nX-Evil: 1\u0000", new Job("k", "x")); });

        Assert.Equal("key", error.ParamName);
        Assert.Contains("control character U+000D", error.Message);
        var fine = await dedup.EnqueueAsync("fine", new Job("k", "x")).Within();
        Assert.Equal(JobStatus.Succeeded, fine.Status);
        Assert.Equal(1, runs);
        Assert.Equal(1, dedup.GetStats().Misses);
    }

    [Fact]
    public async Task EnqueueAsync_ExplicitKeyOverMaxKeyBytes_ThrowsArgumentExceptionSayingTheLimit()
    {
        await using var dedup = Dedup.Create((job, _, _) => ValueTask.FromResult("v"), o => o.MaxKeyBytes = 16);

        var error = Assert.Throws<ArgumentException>(() => { _ = dedup.EnqueueAsync(new string('k', 17), new Job("k", "x")); });

        Assert.Equal("key", error.ParamName);
        Assert.Contains("17 UTF-8 bytes", error.Message);
        Assert.Equal(16, dedup.KeyPolicy.MaxKeyBytes);
    }

    [Fact]
    public async Task EnqueueAsync_NullExplicitKey_ThrowsArgumentNullExceptionNamingKey()
    {
        await using var dedup = Dedup.Create((job, _, _) => ValueTask.FromResult("v"));

        var error = Assert.Throws<ArgumentNullException>(() => { _ = dedup.EnqueueAsync(null!, new Job("k", "x")); });

        Assert.Equal("key", error.ParamName);
    }

    [Fact]
    public async Task EnqueueAsync_KeySelectorReturnsAControlCharacter_ThrowsNamingJobAndTheSelector()
    {
        await using var dedup = Dedup.Create((job, _, _) => ValueTask.FromResult("v"));

        var error = Assert.Throws<ArgumentException>(() => { _ = dedup.EnqueueAsync(new Job("a\nb", "x")); });

        Assert.Equal("job", error.ParamName);
        Assert.Contains("KeySelector", error.Message);
        Assert.Contains("U+000A", error.Message);
    }

    [Fact]
    public async Task EnqueueAsync_UnicodeKey_RunsAndIsDeduplicated()
    {
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, context, _) =>
            {
                Interlocked.Increment(ref runs);
                return ValueTask.FromResult(context.Key);
            },
            o => o.DedupeWindow = TimeSpan.FromMinutes(1));

        var first = await dedup.EnqueueAsync("café-ключ-✓", new Job("k", "x")).Within();
        var second = await dedup.EnqueueAsync("café-ключ-✓", new Job("k", "x")).Within();

        Assert.Equal("café-ключ-✓", first.Value);
        Assert.Equal(JobRole.Replayed, second.Role);
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task ForgetAndForgetAsync_InvalidKey_ThrowArgumentExceptionNamingKey()
    {
        await using var dedup = Dedup.Create((job, _, _) => ValueTask.FromResult("v"));

        var forget = Assert.Throws<ArgumentException>(() => dedup.Forget("a\u0000"));
        var forgetAsync = await Assert.ThrowsAsync<ArgumentException>(async () => await dedup.ForgetAsync("a\u2028"));
        var forgetNull = await Assert.ThrowsAsync<ArgumentNullException>(async () => await dedup.ForgetAsync(null!));

        Assert.Equal("key", forget.ParamName);
        Assert.Equal("key", forgetAsync.ParamName);
        Assert.Equal("key", forgetNull.ParamName);
    }

    [Fact]
    public async Task SharedCall_InvalidStringKey_ThrowsArgumentExceptionNamingKeyAndNeverRunsTheWork()
    {
        var calls = new SharedCall<string, int>();
        var runs = 0;

        var error = Assert.Throws<ArgumentException>(() =>
        {
            _ = calls.RunAsync("k\r\n", _ => Task.FromResult(Interlocked.Increment(ref runs)));
        });
        var nullKey = Assert.Throws<ArgumentNullException>(() => { _ = calls.RunAsync(null!, _ => Task.FromResult(1)); });
        var syncError = Assert.Throws<ArgumentException>(() => calls.Run(new string('k', 1025), () => Interlocked.Increment(ref runs)));
        var forgetError = Assert.Throws<ArgumentException>(() => calls.Forget("\u0085"));

        Assert.Equal("key", error.ParamName);
        Assert.Equal("key", nullKey.ParamName);
        Assert.Equal("key", syncError.ParamName);
        Assert.Equal("key", forgetError.ParamName);
        Assert.Equal(0, runs);
        Assert.Equal(1, await calls.RunAsync("café-ключ-✓", _ => Task.FromResult(1)).Within());
    }

    [Fact]
    public void SharedCall_MaxKeyBytes_IsHonouredAndNonStringKeysAreNotChecked()
    {
        var small = new SharedCall<string, int>(new SharedCallOptions { MaxKeyBytes = 4 });
        var numbers = new SharedCall<int, int>(new SharedCallOptions { MaxKeyBytes = 1 });

        Assert.Throws<ArgumentException>(() => small.Run("12345", () => 1));
        Assert.Equal(1, small.Run("1234", () => 1));
        Assert.Equal(7, numbers.Run(123456, () => 7));
    }
}
