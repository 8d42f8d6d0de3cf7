using System.Text;
using JobDedup.RabbitMq;
using JobDedup.Worker.Tests.Support;

namespace JobDedup.Worker.Tests;

[Collection(BrokerCollection.Name)]
public sealed class WorkerTests(Broker broker)
{
    [Fact]
    public async Task Worker_DuplicatesOfFiveEvents_PostsOncePerEventAndAnswersEveryMessage()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "worker-http");
        await using var sink = await HttpSink.StartAsync();
        var replies = await queue.DeclareReplyQueueAsync();
        await queue.DeclareAsync();
        for (var i = 0; i < 100; i++)
        {
            await queue.PublishAsync(key: null, $"{{\"id\":\"evt_{i % 5}\",\"amount\":{i}}}", replyTo: replies, correlationId: $"c{i}");
        }

        await using var worker = WorkerProcess.Start(WorkerSettingsFor.Pipeline(queue, sink, ("DedupeWindow", "00:05:00")));
        await worker.Consuming.Within();
        await Watchdog.Until(async () => await queue.CountAsync(replies) == 100, "a reply for each of the 100 messages");
        var exit = await worker.TerminateAsync();

        Assert.Equal(0, exit);
        Assert.Equal(5, sink.TotalCalls);
        Assert.All(sink.Calls.Values, calls => Assert.Equal(1, calls));
        var answers = await queue.DrainAsync(replies);
        Assert.Equal(100, answers.Select(a => a.BasicProperties.CorrelationId).Distinct().Count());
        Assert.All(answers, a => Assert.StartsWith("handled evt_", Encoding.UTF8.GetString(a.Body.Span)));
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
        Assert.Equal(0u, await queue.CountAsync(queue.DeadLetterQueue));
    }

    [Fact]
    public async Task Worker_SigtermMidFlight_ExitsCleanlyAndUnfinishedDeliveriesAreBackInTheQueue()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "worker-sigterm");
        await using var sink = await HttpSink.StartAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        sink.Respond = async (key, _, ct) =>
        {
            await release.Task.WaitAsync(ct);
            return (200, "late");
        };
        await queue.DeclareAsync();
        for (var i = 0; i < 30; i++)
        {
            await queue.PublishAsync(key: null, $"{{\"id\":\"evt_{i % 3}\"}}");
        }

        await using var worker = WorkerProcess.Start(WorkerSettingsFor.Pipeline(queue, sink, ("MaxRetryAttempts", "0")));
        await worker.Consuming.Within();
        await Watchdog.Until(() => sink.TotalCalls == 3, "one held call per event");

        var exit = await worker.TerminateAsync();
        release.TrySetResult();

        Assert.Equal(0, exit);
        Assert.Contains("returned to the queue", worker.Output, StringComparison.Ordinal);
        Assert.Equal(30u, await queue.CountAsync(queue.Name));
        Assert.Equal(0u, await queue.CountAsync(queue.DeadLetterQueue));
    }

    [Fact]
    public async Task Worker_EndpointFailsWith5xxTwice_RetriesAndSucceeds()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "worker-5xx");
        await using var sink = await HttpSink.StartAsync();
        sink.Respond = (key, call, _) => Task.FromResult(call <= 2 ? (503, "busy") : (200, "ok"));
        var replies = await queue.DeclareReplyQueueAsync();
        await using var worker = WorkerProcess.Start(WorkerSettingsFor.Pipeline(queue, sink, ("MaxRetryAttempts", "0")));
        await worker.Consuming.Within();

        await queue.PublishAsync(key: null, "{\"id\":\"evt_1\"}", replyTo: replies, correlationId: "c1");
        await Watchdog.Until(async () => await queue.CountAsync(replies) == 1, "the reply");
        await worker.TerminateAsync();

        Assert.Equal(3, sink.Calls["evt_1"]);
        Assert.Equal("ok", Encoding.UTF8.GetString(Assert.Single(await queue.DrainAsync(replies)).Body.Span));
        Assert.Equal(0u, await queue.CountAsync(queue.DeadLetterQueue));
    }

    [Fact]
    public async Task Worker_EndpointAnswers4xx_DeadLettersAtOnceWithoutRetry()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "worker-4xx");
        await using var sink = await HttpSink.StartAsync();
        sink.Respond = (_, _, _) => Task.FromResult((422, "invalid payment"));
        await using var worker = WorkerProcess.Start(WorkerSettingsFor.Pipeline(queue, sink));
        await worker.Consuming.Within();

        await queue.PublishAsync(key: null, "{\"id\":\"evt_1\"}");
        await Watchdog.Until(async () => await queue.CountAsync(queue.DeadLetterQueue) == 1, "the dead letter");
        await worker.TerminateAsync();

        Assert.Equal(1, sink.Calls["evt_1"]);
        var letter = Assert.Single(await queue.DrainAsync(queue.DeadLetterQueue));
        Assert.Equal(DeadLetterReasons.PermanentFailure, Encoding.UTF8.GetString((byte[])letter.BasicProperties.Headers![JobDedupHeaders.Reason]!));
        Assert.Contains("422", Encoding.UTF8.GetString((byte[])letter.BasicProperties.Headers![JobDedupHeaders.ExceptionMessage]!));
    }

    [Fact]
    public async Task Worker_PublishHandler_RelaysOneMessagePerKey()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "worker-relay");
        var target = await queue.DeclareReplyQueueAsync();
        await queue.DeclareAsync();
        for (var i = 0; i < 20; i++)
        {
            await queue.PublishAsync($"order-{i % 2}", $"{{\"copy\":{i}}}");
        }

        var environment = new Dictionary<string, string>
        {
            ["JobDedup__RabbitMq__Uri"] = Broker.Uri,
            ["JobDedup__Pipelines__relay__Queue"] = queue.Name,
            ["JobDedup__Pipelines__relay__DedupeWindow"] = "00:05:00",
            ["JobDedup__Pipelines__relay__Handler__Type"] = "Publish",
            ["JobDedup__Pipelines__relay__Handler__RoutingKey"] = target,
        };
        await using var worker = WorkerProcess.Start(environment);
        await worker.Consuming.Within();
        await Watchdog.Until(async () => await queue.CountAsync(queue.Name) == 0 && await queue.CountAsync(target) == 2, "two relayed messages");
        await worker.TerminateAsync();

        var relayed = await queue.DrainAsync(target);
        Assert.Equal(["order-0", "order-1"], relayed.Select(m => Encoding.UTF8.GetString((byte[])m.BasicProperties.Headers![JobDedupHeaders.Key]!)).Order());
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
    }

    [Fact]
    public async Task TwoWorkers_PartitionedQueue_TwentyRunsInAllAndNothingLostWhenOneStopsMidBurst()
    {
        const int Partitions = 4;
        await using var queue = await TestQueue.CreateAsync(broker, "worker-partitions");
        queue.UsesPartitions(Partitions);
        await using var sink = await HttpSink.StartAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        sink.Respond = async (key, _, ct) =>
        {
            await release.Task.WaitAsync(ct);
            return (200, $"charged {key}");
        };
        var replies = await queue.DeclareReplyQueueAsync();
        await using var leases = await PartitionLeaseSchema.CreateAsync();
        var settings = WorkerSettingsFor.Pipeline(queue, sink, [("Partitions", $"{Partitions}"), ("Prefetch", "1000"), ("DedupeWindow", "00:05:00"), .. leases.WorkerSettings()]);
        await using var first = WorkerProcess.Start(settings);
        await using var second = WorkerProcess.Start(settings);
        await Task.WhenAll(first.Consuming, second.Consuming).Within();

        // Shared out before the burst: a partition that moved mid-burst would take its parked copies to a worker whose
        // in-memory window has not seen their key.
        await Watchdog.Until(
            () => first.ConsumedPartitions().Count == 2 && second.ConsumedPartitions().Count == 2
                && !first.ConsumedPartitions().Overlaps(second.ConsumedPartitions()),
            "each worker consuming two partitions");
        await using var publisher = new RabbitMqJobPublisher(new RabbitMqPublisherOptions { ConnectionUri = Broker.Uri, PartitionedQueue = queue.Name });

        // Phase 1: the handler is held, so every duplicate meets its key's one flight, whichever worker holds the partition.
        await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => publisher.PublishAsync(
            $"evt_{i % 20}",
            Encoding.UTF8.GetBytes($"{{\"id\":\"evt_{i % 20}\"}}"),
            new JobPublishProperties { ReplyTo = replies, CorrelationId = $"a{i}" })));
        await Watchdog.Until(() => sink.TotalCalls == 20, "one held call per key");
        release.TrySetResult();
        await Watchdog.Until(async () => await queue.CountAsync(replies) == 1000, "a reply for each of the 1,000 messages");
        Assert.Equal(20, sink.TotalCalls);
        Assert.All(sink.Calls.Values, calls => Assert.Equal(1, calls));

        // Phase 2: twenty new keys; one worker is stopped mid-burst and its partitions move to the other.
        await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => publisher.PublishAsync(
            $"evt_b{i % 20}",
            Encoding.UTF8.GetBytes($"{{\"id\":\"evt_b{i % 20}\"}}"),
            new JobPublishProperties { ReplyTo = replies, CorrelationId = $"b{i}" })));
        await Watchdog.Until(async () => await queue.CountAsync(replies) >= 1200, "the second burst is under way");
        Assert.Equal(0, await first.TerminateAsync());
        await Watchdog.Until(async () => await queue.CountAsync(replies) >= 2000, "every message of both bursts answered");
        Assert.Equal(0, await second.TerminateAsync());

        var answers = await queue.DrainAsync(replies);
        Assert.Equal(2000, answers.Select(a => a.BasicProperties.CorrelationId).Distinct().Count());
        for (var i = 0; i < Partitions; i++)
        {
            Assert.Equal(0u, await queue.CountAsync($"{queue.Name}.partition.{i}"));
        }

        Assert.Equal(0u, await queue.CountAsync(queue.DeadLetterQueue));
        Assert.Equal(40, sink.Calls.Count);
    }

    [Theory]
    [InlineData("PostgreSql")]
    [InlineData("Redis")]
    public async Task Worker_SharedWindow_AnswersDuplicatesAcrossARestartWithoutASecondCall(string store)
    {
        await using var queue = await TestQueue.CreateAsync(broker, "worker-durable-" + store.ToLowerInvariant());
        await using var sink = await HttpSink.StartAsync();
        var replies = await queue.DeclareReplyQueueAsync();
        var id = $"evt_{Guid.NewGuid():N}"; // the window outlives this test in the shared store, so the key is new each run
        var settings = WorkerSettingsFor.Pipeline(queue, sink, ("DedupeWindow", "01:00:00"), (store, store == "Redis" ? Servers.Redis() : Servers.PostgreSql()));

        async Task SendAndAnswerAsync(string batch, int expectedReplies)
        {
            await using var worker = WorkerProcess.Start(settings);
            await worker.Consuming.Within();
            for (var i = 0; i < 10; i++)
            {
                await queue.PublishAsync(key: null, $"{{\"id\":\"{id}\"}}", replyTo: replies, correlationId: $"{batch}{i}");
            }

            await Watchdog.Until(async () => await queue.CountAsync(replies) == expectedReplies, $"replies of batch {batch}");
            Assert.Equal(0, await worker.TerminateAsync());
        }

        await SendAndAnswerAsync("before", 10);
        await SendAndAnswerAsync("after", 20); // a new process: the window comes from the shared store

        Assert.Equal(1, sink.Calls[id]);
        Assert.True(long.TryParse(sink.FencingTokens[id], System.Globalization.CultureInfo.InvariantCulture, out var fencingToken) && fencingToken > 0, $"fencing token header '{sink.FencingTokens[id]}'");
        var answers = await queue.DrainAsync(replies);
        Assert.All(answers, a => Assert.Equal($"handled {id}", Encoding.UTF8.GetString(a.Body.Span)));
        Assert.Equal(10, answers.Count(a => Encoding.UTF8.GetString((byte[])a.BasicProperties.Headers![JobDedupHeaders.Role]!) == "Replayed" && a.BasicProperties.CorrelationId!.StartsWith("after", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Worker_JsonFingerprintOnPostgreSql_AnotherBodyUnderAUsedKeyIsDeadLetteredAsPayloadMismatch_AndTheSameJsonIsReplayed()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "worker-fingerprint");
        await using var sink = await HttpSink.StartAsync();
        var replies = await queue.DeclareReplyQueueAsync();
        var id = $"evt_{Guid.NewGuid():N}"; // the window outlives this test in the shared store, so the key is new each run
        await using var worker = WorkerProcess.Start(WorkerSettingsFor.Pipeline(
            queue, sink, ("DedupeWindow", "01:00:00"), ("Fingerprint", "Json"), ("PostgreSql", Servers.PostgreSql())));
        await worker.Consuming.Within();

        await queue.PublishAsync(key: null, $"{{\"id\":\"{id}\",\"amount\":10}}", replyTo: replies, correlationId: "first");
        await Watchdog.Until(async () => await queue.CountAsync(replies) == 1, "the first message is answered");
        await queue.PublishAsync(key: null, $"{{\"id\":\"{id}\",\"amount\":20}}", replyTo: replies, correlationId: "other");
        await Watchdog.Until(async () => await queue.CountAsync(queue.DeadLetterQueue) == 1, "the other body is dead-lettered");
        await queue.PublishAsync(key: null, $"{{ \"amount\": 10, \"id\": \"{id}\" }}", replyTo: replies, correlationId: "same");
        await Watchdog.Until(async () => await queue.CountAsync(replies) == 3, "an answer for each of the three");
        Assert.Equal(0, await worker.TerminateAsync());

        Assert.Equal(1, sink.Calls[id]);
        var letter = Assert.Single(await queue.DrainAsync(queue.DeadLetterQueue));
        Assert.Equal(DeadLetterReasons.PayloadMismatch, Encoding.UTF8.GetString((byte[])letter.BasicProperties.Headers![JobDedupHeaders.Reason]!));
        Assert.Contains("\"amount\":20", Encoding.UTF8.GetString(letter.Body.Span), StringComparison.Ordinal);
        var answers = (await queue.DrainAsync(replies)).ToDictionary(a => a.BasicProperties.CorrelationId!);
        Assert.Equal($"handled {id}", Encoding.UTF8.GetString(answers["first"].Body.Span));
        Assert.Equal("Replayed", Encoding.UTF8.GetString((byte[])answers["same"].BasicProperties.Headers![JobDedupHeaders.Role]!));
        Assert.Equal($"handled {id}", Encoding.UTF8.GetString(answers["same"].Body.Span));
        Assert.Contains(DeadLetterReasons.PayloadMismatch, Encoding.UTF8.GetString(answers["other"].Body.Span), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_RedisAndPostgreSqlBothSet_ExitsNamingBoth()
    {
        var environment = new Dictionary<string, string>
        {
            ["JobDedup__Pipelines__orders__Queue"] = "orders",
            ["JobDedup__Pipelines__orders__DedupeWindow"] = "01:00:00",
            ["JobDedup__Pipelines__orders__Redis"] = "127.0.0.1:6379",
            ["JobDedup__Pipelines__orders__PostgreSql"] = "Host=127.0.0.1;Username=postgres;Database=jobdedup",
            ["JobDedup__Pipelines__orders__Handler__Url"] = "http://127.0.0.1:1/",
        };
        await using var worker = WorkerProcess.Start(environment);

        var exit = await worker.WaitForExitAsync();

        Assert.Equal(2, exit);
        Assert.Contains("JobDedup:Pipelines:orders:Redis and JobDedup:Pipelines:orders:PostgreSql are both set", worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_BadSettings_ExitsAtOnceNamingEachSetting()
    {
        var environment = new Dictionary<string, string>
        {
            ["JobDedup__Pipelines__orders__Queue"] = "orders",
            ["JobDedup__Pipelines__orders__Prefetch"] = "0",
            ["JobDedup__Pipelines__orders__Handler__Url"] = "not a url",
            ["JobDedup__RabbitMq__Uri"] = "http://broker",
        };
        await using var worker = WorkerProcess.Start(environment);

        var exit = await worker.WaitForExitAsync();

        Assert.Equal(2, exit);
        Assert.Contains("JobDedup:Pipelines:orders:Prefetch", worker.Output, StringComparison.Ordinal);
        Assert.Contains("JobDedup:Pipelines:orders:Handler:Url", worker.Output, StringComparison.Ordinal);
        Assert.Contains("JobDedup:RabbitMq:Uri", worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_ClaimRenewIntervalNotShorterThanTheLease_ExitsNamingBothSettings()
    {
        var environment = new Dictionary<string, string>
        {
            ["JobDedup__Pipelines__orders__Queue"] = "orders",
            ["JobDedup__Pipelines__orders__DedupeWindow"] = "01:00:00",
            ["JobDedup__Pipelines__orders__PostgreSql"] = "Host=127.0.0.1;Username=postgres;Database=jobdedup",
            ["JobDedup__Pipelines__orders__ClaimLease"] = "00:00:10",
            ["JobDedup__Pipelines__orders__ClaimRenewInterval"] = "00:00:10",
            ["JobDedup__Pipelines__orders__Handler__Url"] = "http://127.0.0.1:1/",
        };
        await using var worker = WorkerProcess.Start(environment);

        var exit = await worker.WaitForExitAsync();

        Assert.Equal(2, exit);
        Assert.Contains("JobDedup:Pipelines:orders:ClaimRenewInterval must be at least 100 ms and shorter than ClaimLease", worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_UnknownSetting_ExitsNamingIt()
    {
        await using var worker = WorkerProcess.Start(new Dictionary<string, string> { ["JobDedup__Pipelines__orders__Queu"] = "orders" });

        var exit = await worker.WaitForExitAsync();

        Assert.Equal(2, exit);
        Assert.Contains("JobDedup:Pipelines:orders:Queu is not a setting; did you mean Queue?", worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_UnreadableValues_ExitsNamingEachByPathWithWhatItAccepts()
    {
        var environment = new Dictionary<string, string>
        {
            ["JobDedup__Pipelines__orders__Queue"] = "orders",
            ["JobDedup__Pipelines__orders__Handler__Type"] = "Grpc",
            ["JobDedup__Pipelines__orders__Prefetch"] = "lots",
            ["JobDedup__Pipelines__orders__DedupeWindow"] = "5min",
            ["JobDedup__Logging__Jsn"] = "true",
        };
        await using var worker = WorkerProcess.Start(environment);

        var exit = await worker.WaitForExitAsync();

        Assert.Equal(2, exit);
        Assert.Contains("JobDedup:Pipelines:orders:Handler:Type is 'Grpc', which is not one of: Http, Publish.", worker.Output, StringComparison.Ordinal);
        Assert.Contains("JobDedup:Pipelines:orders:Prefetch is 'lots', which is not a whole number.", worker.Output, StringComparison.Ordinal);
        Assert.Contains("JobDedup:Pipelines:orders:DedupeWindow is '5min', which is not a duration", worker.Output, StringComparison.Ordinal);
        Assert.Contains("JobDedup:Logging:Jsn is not a setting; did you mean Json?", worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_StartedFromAnotherFolder_ReadsTheAppsettingsBesideIt()
    {
        // A copy of the worker whose appsettings.json holds a mistake, run from an unrelated folder: the mistake is
        // reported only if the file beside the worker was read.
        var copy = Directory.CreateTempSubdirectory("jobdedup-worker-copy-");
        var elsewhere = Directory.CreateTempSubdirectory("jobdedup-elsewhere-");
        try
        {
            var built = Path.GetDirectoryName(WorkerProcess.WorkerDll())!;
            foreach (var file in Directory.GetFiles(built))
            {
                File.Copy(file, Path.Combine(copy.FullName, Path.GetFileName(file)));
            }

            await File.WriteAllTextAsync(
                Path.Combine(copy.FullName, "appsettings.json"),
                """{ "JobDedup": { "Pipelines": { "beside": { "Queu": "orders" } } } }""");
            await using var worker = WorkerProcess.Start(
                new Dictionary<string, string>(), Path.Combine(copy.FullName, "JobDedup.Worker.dll"), elsewhere.FullName);

            var exit = await worker.WaitForExitAsync();

            Assert.Equal(2, exit);
            Assert.Contains("JobDedup:Pipelines:beside:Queu is not a setting", worker.Output, StringComparison.Ordinal);
        }
        finally
        {
            copy.Delete(recursive: true);
            elsewhere.Delete(recursive: true);
        }
    }
}
