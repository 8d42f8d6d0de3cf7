using System.Text;
using JobDedup.Faults.Tests.Servers;
using JobDedup.Faults.Tests.Traffic;
using JobDedup.RabbitMq;
using Xunit.Abstractions;

namespace JobDedup.Faults.Tests.Cases;

[Collection(FaultCollection.Name)]
public sealed class HostileInputTests(FaultServers servers, ITestOutputHelper output)
{
    /// <summary>The documented default of the longest key accepted, in UTF-8 bytes.</summary>
    private const int MaxKeyBytes = 1024;

    [Fact]
    public async Task HostileKeysAndBodies_AreDeadLetteredAtOnceWithTheirReason_AndValidUnusualKeysRunOnce()
    {
        await using var run = await FaultCase.StartAsync(servers, output, "hostile");
        var headersQueue = run.AddQueue("headers");
        var h = "JobDedup__Pipelines__headers__";
        var settings = run.Settings("json", FaultCase.PostgreSqlStore);
        settings[h + "Queue"] = headersQueue;
        settings[h + "DedupeWindow"] = "00:30:00";
        settings[h + "RetryDelays__0"] = "00:00:01";
        settings[h + "Handler__Url"] = run.Sink.UrlFor("headers");
        var worker = run.StartWorker("w1", settings);
        await worker.WaitConsumingAsync();
        await run.UntilAsync(() => worker.Output.Contains($"is consuming queue {headersQueue} ", StringComparison.Ordinal), "the header-keyed pipeline consuming", TimeSpan.FromSeconds(30));

        var nonAscii = "café-ключ-✓";
        var longNonAscii = string.Concat(Enumerable.Repeat("ключ", MaxKeyBytes / Encoding.UTF8.GetByteCount("ключ")));
        var atLimit = new string('k', MaxKeyBytes);
        var expectedDead = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["crlf"] = DeadLetterReasons.InvalidKey,
            ["nul"] = DeadLetterReasons.InvalidKey,
            ["tab"] = DeadLetterReasons.InvalidKey,
            ["too-long"] = DeadLetterReasons.InvalidKey,
            ["bad-utf8"] = DeadLetterReasons.UnreadableBody,
            ["not-json"] = DeadLetterReasons.UnreadableBody,
            ["no-id"] = DeadLetterReasons.MissingKey,
            ["table-header"] = DeadLetterReasons.InvalidKey,
            ["bool-header"] = DeadLetterReasons.InvalidKey,
            ["array-header"] = DeadLetterReasons.InvalidKey,
        };
        var json = new List<FaultMessage>
        {
            FaultMessage.Json("crlf", "j\r\nX-Evil: 1\u0000"),
            FaultMessage.Json("nul", "nul\u0000key"),
            FaultMessage.Json("tab", "tab\tkey"),
            FaultMessage.Json("too-long", new string('k', 10 * 1024)),
            new("bad-utf8", [.. "{\"id\":\"bad-"u8, 0xFF, 0xFE, .. "\"}"u8]),
            new("not-json", "not json at all"u8.ToArray()),
            new("no-id", "{\"amount\":3}"u8.ToArray()),
        };
        json.AddRange(Enumerable.Range(0, 3).Select(i => FaultMessage.Json($"non-ascii-{i}", nonAscii)));
        json.AddRange(Enumerable.Range(0, 2).Select(i => FaultMessage.Json($"long-non-ascii-{i}", longNonAscii)));
        json.AddRange(Enumerable.Range(0, 2).Select(i => FaultMessage.Json($"at-limit-{i}", atLimit)));
        json.AddRange(Enumerable.Range(0, 100).Select(i => FaultMessage.Json($"good-{i}", $"hostile-good-{i % 50}")));

        // Keyed by the x-dedupe-key header (else the message id): a header of a type that cannot be a key is refused.
        FaultMessage Headed(string id, object? key) =>
            new(id, Encoding.UTF8.GetBytes($"{{\"id\":\"{id}\"}}"), new Dictionary<string, object?> { [JobDedupHeaders.Key] = key }, MessageId: $"mid-{id}");
        var headed = new List<FaultMessage>
        {
            Headed("table-header", new Dictionary<string, object?> { ["a"] = 1 }),
            Headed("bool-header", true),
            Headed("array-header", new List<object?> { "x", "y" }),
            Headed("header-good", "header-good"u8.ToArray()),
        };

        await run.PublishAsync(json);
        await run.PublishAsync(headed, exchange: string.Empty, routingKey: headersQueue);
        await run.FinishAsync(TimeSpan.FromSeconds(60));

        var runs = run.Sink.RunsPerKey();
        var wrong = expectedDead
            .Where(e => !run.Ledger.Dead.TryGetValue(e.Key, out var letter) || letter.Reason != e.Value)
            .Select(e => $"{e.Key}: expected {e.Value}, got {(run.Ledger.Dead.TryGetValue(e.Key, out var letter) ? $"{letter.Reason} ({letter.Exception})" : "no dead letter")}")
            .Concat(run.Ledger.Dead.Keys.Where(id => !expectedDead.ContainsKey(id)).Select(id => $"{id}: dead-lettered as {run.Ledger.Dead[id].Reason} ({run.Ledger.Dead[id].Exception})"))
            .ToList();
        Assert.True(wrong.Count == 0, "Dead letters not as expected:\n" + string.Join('\n', wrong));
        Assert.Equal(1, runs.GetValueOrDefault(nonAscii));
        Assert.Equal(1, runs.GetValueOrDefault(longNonAscii));
        Assert.Equal(1, runs.GetValueOrDefault(atLimit));
        Assert.Equal(1, runs.GetValueOrDefault("header-good"));
        Assert.All(Enumerable.Range(0, 50), i => Assert.Equal(1, runs.GetValueOrDefault($"hostile-good-{i}")));
        Assert.Equal(50 + 4, run.Sink.Requests);

        // Nothing hostile reached the downstream: no injected header, no control character in any header.
        Assert.DoesNotContain(run.Sink.Runs, r => r.Headers.ContainsKey("x-evil"));
        Assert.DoesNotContain(run.Sink.Runs, r => r.Headers.Values.Any(v => v.Any(char.IsControl)));
        run.AssertIdempotencyKeys();
    }
}
