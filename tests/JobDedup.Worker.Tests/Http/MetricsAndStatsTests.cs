using System.Net;
using System.Text.Json;
using JobDedup.Worker.Tests.Support;

namespace JobDedup.Worker.Tests.Http;

[Collection(BrokerCollection.Name)]
public sealed class MetricsAndStatsTests(Broker broker)
{
    [Fact]
    public async Task Metrics_AfterABurst_ServesTheEngineAndConsumerInstrumentsForPrometheus()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "http-metrics");
        await using var sink = await HttpSink.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(WorkerSettingsFor.Pipeline(queue, sink));
        await PublishAndSettleAsync(queue, messages: 40, keys: 4, missingKeys: 2);

        // Acks are written (and counted) a moment after the queue is empty; scrape until both kinds of settlement are in.
        var text = "";
        await Watchdog.Until(
            async () =>
            {
                text = await worker.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
                return text.Contains("jobdedup_reason=\"missing-key\"", StringComparison.Ordinal)
                    && text.Contains("jobdedup_settlement=\"ack\"", StringComparison.Ordinal);
            },
            "the acks and the dead letters in the scrape");

        Assert.Contains("# TYPE jobdedup_jobs_enqueued", text, StringComparison.Ordinal);
        Assert.Matches("jobdedup_jobs_enqueued[^{]*\\{[^}]*jobdedup_deduplicator=\"orders\"", text);
        Assert.Contains("jobdedup_handler_duration", text, StringComparison.Ordinal);
        Assert.Contains("le=\"0.005\"", text, StringComparison.Ordinal); // the worker's second buckets, not the default milliseconds
        Assert.Matches("jobdedup_rabbitmq_deliveries_settled[^{]*\\{[^}]*jobdedup_settlement=\"ack\"", text);
        Assert.DoesNotContain("evt_", text, StringComparison.Ordinal); // never a key
    }

    [Fact]
    public async Task ApiStats_AfterABurst_CountsTheJobsAndTheDeadLettersByReasonAndHidesTheKeys()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "http-stats");
        await using var sink = await HttpSink.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(WorkerSettingsFor.Pipeline(queue, sink));
        await PublishAndSettleAsync(queue, messages: 60, keys: 6, missingKeys: 3);

        JsonElement pipeline = default;
        await Watchdog.Until(
            async () =>
            {
                pipeline = Assert.Single((await StatsAsync(worker)).GetProperty("pipelines").EnumerateArray());
                return Handled(pipeline) == 60 && DeadLetters(pipeline, "missing-key") == 3;
            },
            "the burst's 60 jobs and 3 dead letters sampled");
        var body = await worker.Http.GetStringAsync(new Uri("/api/stats", UriKind.Relative));

        Assert.Equal("orders", pipeline.GetProperty("name").GetString());
        Assert.Equal(queue.Name, pipeline.GetProperty("queue").GetString());
        Assert.Equal(sink.TotalCalls, pipeline.GetProperty("totals").GetProperty("misses").GetInt64());
        Assert.Equal(JsonValueKind.Null, pipeline.GetProperty("hottest").ValueKind);
        var samples = pipeline.GetProperty("samples").EnumerateArray().ToList();
        Assert.NotEmpty(samples);
        Assert.Equal(60, samples.Sum(s => s.GetProperty("throughput").GetInt64()));
        Assert.Equal(3, samples.Sum(s => s.GetProperty("deadLetters").GetInt64()));
        Assert.True(samples.Sum(s => s.GetProperty("attempts").GetInt64()) >= sink.TotalCalls, "every handler attempt is counted in the latency samples");
        Assert.DoesNotContain("evt_", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiStats_ShowKeysOn_ListsTheHottestKeyInFlightWithItsCallersAndAge()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "http-hot");
        await using var sink = await HttpSink.StartAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        sink.Respond = async (key, _, ct) =>
        {
            await release.Task.WaitAsync(ct);
            return (200, $"handled {key}");
        };
        await using var worker = await InProcessWorker.StartAsync(WorkerSettingsFor.Pipeline(queue, sink, ("JobDedup__Http__ShowKeys", "true")));
        for (var i = 0; i < 12; i++)
        {
            await queue.PublishAsync(key: null, i < 9 ? "{\"id\":\"evt_hot\"}" : $"{{\"id\":\"evt_cold{i}\"}}");
        }

        await Watchdog.Until(() => sink.TotalCalls == 4, "four held calls: one per key");
        JsonElement pipeline = default;
        await Watchdog.Until(
            async () =>
            {
                pipeline = Assert.Single((await StatsAsync(worker)).GetProperty("pipelines").EnumerateArray());
                return pipeline.GetProperty("inFlight").GetInt32() == 4
                    && pipeline.GetProperty("hottest").EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } top
                    && top.GetProperty("callers").GetInt32() == 9
                    && pipeline.GetProperty("oldestInFlight").GetDouble() > 0;
            },
            "the held key with its nine callers sampled");
        release.TrySetResult();

        var hottest = pipeline.GetProperty("hottest").EnumerateArray().ToList();
        Assert.Equal(4, hottest.Count);
        Assert.Equal("evt_hot", hottest[0].GetProperty("key").GetString());
        Assert.All(hottest.Skip(1), k => Assert.Equal(1, k.GetProperty("callers").GetInt32()));
        Assert.True((await StatsAsync(worker)).GetProperty("showKeys").GetBoolean());
    }

    [Fact]
    public async Task Dashboard_Assets_AreServedByTheWorkerWithNothingFromElsewhere()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "http-assets");
        await using var sink = await HttpSink.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(WorkerSettingsFor.Pipeline(queue, sink));

        using var page = await worker.Http.GetAsync(new Uri("/", UriKind.Relative));
        var html = await page.Content.ReadAsStringAsync();
        var script = await worker.Http.GetStringAsync(new Uri("/dashboard.js", UriKind.Relative));
        var style = await worker.Http.GetStringAsync(new Uri("/dashboard.css", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("src=\"dashboard.js\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"dashboard.css\"", html, StringComparison.Ordinal);
        foreach (var asset in new[] { html, script, style })
        {
            Assert.DoesNotMatch("(src|href)=\"(https?:)?//", asset);
            Assert.DoesNotContain("@import", asset, StringComparison.Ordinal);
        }

        Assert.Contains("api/stats", script, StringComparison.Ordinal);
    }

    internal static async Task<JsonElement> StatsAsync(InProcessWorker worker)
    {
        using var document = JsonDocument.Parse(await worker.Http.GetStringAsync(new Uri("/api/stats", UriKind.Relative)));
        return document.RootElement.Clone();
    }

    internal static long Handled(JsonElement pipeline)
    {
        var totals = pipeline.GetProperty("totals");
        return totals.GetProperty("hits").GetInt64() + totals.GetProperty("misses").GetInt64();
    }

    private static long DeadLetters(JsonElement pipeline, string reason) =>
        pipeline.GetProperty("deadLetters").TryGetProperty(reason, out var count) ? count.GetInt64() : 0;

    /// <summary>Publishes the messages (duplicates spread over the keys) and some without a key, and waits until every one is settled.</summary>
    private static async Task PublishAndSettleAsync(TestQueue queue, int messages, int keys, int missingKeys)
    {
        for (var i = 0; i < messages; i++)
        {
            await queue.PublishAsync(key: null, $"{{\"id\":\"evt_{i % keys}\"}}");
        }

        for (var i = 0; i < missingKeys; i++)
        {
            await queue.PublishAsync(key: null, "{\"amount\":1}");
        }

        await Watchdog.Until(async () => await queue.CountAsync(queue.Name) == 0 && await queue.CountAsync(queue.DeadLetterQueue) == (uint)missingKeys, "every message settled");
    }
}
