using System.Text;
using JobDedup.RabbitMq;
using JobDedup.Worker.Pipelines;
using JobDedup.Worker.Settings;
using Microsoft.Extensions.Configuration;

namespace JobDedup.Worker.Tests.Pipelines;

/// <summary>A pipeline's Fingerprint setting: read from configuration, checked by its path, turned into the deduplicator's fingerprint.</summary>
public sealed class FingerprintSettingTests
{
    [Fact]
    public void Read_FingerprintBody_IsTheSetting()
    {
        var settings = WorkerPipelines.Read(Configuration(("JobDedup:Pipelines:orders:Fingerprint", "Body")));

        Assert.Equal(PayloadFingerprint.Body, settings.Pipelines["orders"].Fingerprint);
        Assert.Equal(PayloadFingerprint.None, new PipelineSettings().Fingerprint);
    }

    [Fact]
    public void CheckReadable_FingerprintThatIsNotAChoice_IsNamedByItsPathWithTheChoices()
    {
        var problems = WorkerPipelines.CheckReadable(Configuration(("JobDedup:Pipelines:orders:Fingerprint", "Sha256")));

        var problem = Assert.Single(problems);
        Assert.Equal("JobDedup:Pipelines:orders:Fingerprint is 'Sha256', which is not one of: None, Body, Json.", problem);
    }

    [Fact]
    public void FingerprintOf_None_ComparesNothing()
    {
        Assert.Null(WorkerPipelines.FingerprintOf(PayloadFingerprint.None));
    }

    [Fact]
    public void FingerprintOf_Body_IsTheSha256OfTheBodysBytes()
    {
        var fingerprint = WorkerPipelines.FingerprintOf(PayloadFingerprint.Body)!;

        var a = fingerprint(Message("""{"amount":10}"""));
        var again = fingerprint(Message("""{"amount":10}"""));
        var spaced = fingerprint(Message("""{ "amount": 10 }"""));

        Assert.Equal(JobFingerprint.FromBytes(Encoding.UTF8.GetBytes("""{"amount":10}""")), a);
        Assert.Equal(a, again);
        Assert.NotEqual(a, spaced);
    }

    [Fact]
    public void FingerprintOf_Json_IgnoresFormattingButNotValues()
    {
        var fingerprint = WorkerPipelines.FingerprintOf(PayloadFingerprint.Json)!;

        var a = fingerprint(Message("""{"amount":10,"currency":"EUR"}"""));
        var reordered = fingerprint(Message("""{ "currency": "EUR", "amount": 10.0 }"""));
        var other = fingerprint(Message("""{"amount":11,"currency":"EUR"}"""));

        Assert.Equal(a, reordered);
        Assert.NotEqual(a, other);
        Assert.Equal(JobFingerprint.FromJson(Encoding.UTF8.GetBytes("""{"amount":10,"currency":"EUR"}""").AsSpan()), a);
    }

    private static RabbitMqMessage Message(string body) => new(Encoding.UTF8.GetBytes(body));

    private static IConfiguration Configuration(params (string Key, string Value)[] values)
    {
        var all = new Dictionary<string, string?>
        {
            ["JobDedup:Pipelines:orders:Queue"] = "orders",
            ["JobDedup:Pipelines:orders:Handler:Url"] = "http://127.0.0.1:8080/orders",
        };
        foreach (var (key, value) in values)
        {
            all[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(all).Build();
    }
}
