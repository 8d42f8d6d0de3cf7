using JobDedup.AspNetCore.Keys;
using Microsoft.AspNetCore.Http;

namespace JobDedup.AspNetCore.Tests.Execution;

public sealed class IdempotencyKeysTests
{
    private static KeyReading Read(Action<HttpContext> request, Action<IdempotencyOptions>? configure = null)
    {
        var context = new DefaultHttpContext();
        request(context);
        var options = new IdempotencyOptions();
        configure?.Invoke(options);
        return IdempotencyKeys.Read(context, options, KeyPolicy.Default);
    }

    [Fact]
    public void Read_TwoHeaderValues_IsRefused()
    {
        var reading = Read(c => c.Request.Headers["Idempotency-Key"] = new(["a", "b"]));

        Assert.Equal(KeyReadingKind.Refused, reading.Kind);
        Assert.Contains("once", reading.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NoHeader_IsMissing() =>
        Assert.Equal(KeyReadingKind.Missing, Read(_ => { }).Kind);

    [Fact]
    public void Read_ScopeAndKey_CannotBeConfusedWithAnotherPair()
    {
        var one = Read(c => c.Request.Headers["Idempotency-Key"] = "b:c", o => o.Scope = _ => "a");
        var two = Read(c => c.Request.Headers["Idempotency-Key"] = "c", o => o.Scope = _ => "a:b");
        var unscoped = Read(c => c.Request.Headers["Idempotency-Key"] = "a:b:c");

        Assert.Equal("s1:a:b:c", one.EngineKey);
        Assert.Equal("s3:a:b:c", two.EngineKey);
        Assert.Equal("k:a:b:c", unscoped.EngineKey);
    }

    [Fact]
    public void Read_ScopeTheEngineRefuses_ThrowsNamingTheScope()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            Read(c => c.Request.Headers["Idempotency-Key"] = "k", o => o.Scope = _ => "bad\nscope"));

        Assert.Contains("Scope", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_KeyWithAControlCharacter_IsRefusedWithTheReason()
    {
        var reading = Read(_ => { }, o => o.KeySelector = _ => "a\u0001b");

        Assert.Equal(KeyReadingKind.Refused, reading.Kind);
        Assert.Contains("control", reading.Problem, StringComparison.OrdinalIgnoreCase);
    }
}
