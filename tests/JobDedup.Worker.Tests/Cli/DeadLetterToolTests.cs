using System.Text;
using JobDedup.RabbitMq;
using JobDedup.Worker.Tests.Support;

namespace JobDedup.Worker.Tests.Cli;

/// <summary>The <c>jobdedup dead-letters</c> commands against the real broker, on messages a real consumer dead-lettered.</summary>
[Collection(BrokerCollection.Name)]
public sealed class DeadLetterToolTests(Broker broker)
{
    [Fact]
    public async Task List_ShowsAPoisonJobWithItsReasonAttemptsAndKey_AndLeavesItInTheQueue()
    {
        await using var run = await PoisonRun.StartAsync(broker, "dlt-list");
        await run.DeadLetterAsync("order-7", "{\"id\":\"order-7\",\"poison\":true}", messageId: "m-7");

        var first = await ToolProcess.RunAsync(["dead-letters", "list", "--queue", run.Queue.Name]);
        var second = await ToolProcess.RunAsync(["dead-letters", "list", "--queue", run.Queue.Name]);

        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Contains($"1 dead letter in '{run.Queue.DeadLetterQueue}'", first.Output, StringComparison.Ordinal);
        var row = Assert.Single(Rows(first.Output));
        Assert.Contains(DeadLetterReasons.PermanentFailure, row, StringComparison.Ordinal);
        Assert.Contains("order-7", row, StringComparison.Ordinal);
        Assert.Contains("m-7", row, StringComparison.Ordinal);
        Assert.Equal(WithoutAges(first.Output), WithoutAges(second.Output));
        Assert.Equal(1u, await run.Queue.CountAsync(run.Queue.DeadLetterQueue));
    }

    [Fact]
    public async Task Show_ByPositionOrMessageId_PrintsTheErrorHeadersAndBody()
    {
        await using var run = await PoisonRun.StartAsync(broker, "dlt-show");
        await run.DeadLetterAsync("order-8", "{\"id\":\"order-8\",\"poison\":true}", messageId: "m-8");

        var byIndex = await ToolProcess.RunAsync(["dead-letters", "show", "1", "--queue", run.Queue.Name]);
        var byId = await ToolProcess.RunAsync(["dead-letters", "show", "m-8", "--queue", run.Queue.Name]);
        var missing = await ToolProcess.RunAsync(["dead-letters", "show", "m-9", "--queue", run.Queue.Name]);

        Assert.True(byIndex.ExitCode == 0, byIndex.Error);
        Assert.Equal(WithoutAges(byIndex.Output), WithoutAges(byId.Output));
        Assert.Contains($"{JobDedupHeaders.Reason}: {DeadLetterReasons.PermanentFailure}", byIndex.Output, StringComparison.Ordinal);
        Assert.Contains($"{typeof(PoisonException).FullName}: poisoned order-8", byIndex.Output, StringComparison.Ordinal);
        Assert.Contains("{\"id\":\"order-8\",\"poison\":true}", byIndex.Output, StringComparison.Ordinal);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("No message 'm-9'", missing.Error, StringComparison.Ordinal);
        Assert.Equal(1u, await run.Queue.CountAsync(run.Queue.DeadLetterQueue));
    }

    [Fact]
    public async Task Replay_AfterTheFaultIsFixed_RunsTheJobOnceAndEmptiesTheDeadLetterQueue()
    {
        await using var run = await PoisonRun.StartAsync(broker, "dlt-replay");
        await run.DeadLetterAsync("order-9", "{\"id\":\"order-9\"}", messageId: "m-9");
        await run.DeadLetterAsync("order-10", "{\"id\":\"order-10\"}", messageId: "m-10");
        run.Poisoned = false;

        var replay = await ToolProcess.RunAsync(["dead-letters", "replay", "m-9", "--queue", run.Queue.Name]);

        Assert.True(replay.ExitCode == 0, replay.Error);
        Assert.Contains("1 replayed; 1 left", replay.Output, StringComparison.Ordinal);
        await Watchdog.Until(() => run.Succeeded("order-9") == 1, "the replayed job ran");
        await Watchdog.Until(() => run.Settled["ack"] == 1, "the replayed delivery was acked");
        Assert.Equal(1, run.Succeeded("order-9"));
        Assert.Equal(0, run.Succeeded("order-10"));
        Assert.Equal(1u, await run.Queue.CountAsync(run.Queue.DeadLetterQueue));
        var left = await ToolProcess.RunAsync(["dead-letters", "list", "--queue", run.Queue.Name]);
        Assert.Contains("order-10", left.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("order-9", left.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplayAll_OfAKeyAlreadyInTheDedupeWindow_IsAnsweredFromTheWindowWithoutARun()
    {
        await using var run = await PoisonRun.StartAsync(broker, "dlt-window", TimeSpan.FromMinutes(5));
        await run.DeadLetterAsync("order-11", "{\"id\":\"order-11\"}");
        run.Poisoned = false;
        await run.Queue.PublishAsync("order-11", "{\"id\":\"order-11\"}");
        await Watchdog.Until(() => run.Succeeded("order-11") == 1, "the fixed job ran");

        var replay = await ToolProcess.RunAsync(["dead-letters", "replay", "--all", "--reason", DeadLetterReasons.PermanentFailure, "--queue", run.Queue.Name]);

        Assert.True(replay.ExitCode == 0, replay.Error);
        await Watchdog.Until(() => run.Settled["ack"] == 2, "the replayed delivery was acked");
        Assert.Equal(1, run.Succeeded("order-11"));
        Assert.Equal(0u, await run.Queue.CountAsync(run.Queue.DeadLetterQueue));
    }

    [Fact]
    public async Task Purge_AsksFirst_AndDeletesOnlyWhenConfirmed()
    {
        await using var run = await PoisonRun.StartAsync(broker, "dlt-purge");
        await run.DeadLetterAsync("order-12", "{\"id\":\"order-12\"}");

        var declined = await ToolProcess.RunAsync(["dead-letters", "purge", "--queue", run.Queue.Name], input: "n\n");
        var unanswered = await ToolProcess.RunAsync(["dead-letters", "purge", "--queue", run.Queue.Name]);
        var countAfterRefusals = await run.Queue.CountAsync(run.Queue.DeadLetterQueue);
        var confirmed = await ToolProcess.RunAsync(["dead-letters", "purge", "--queue", run.Queue.Name], input: "y\n");
        await run.DeadLetterAsync("order-13", "{\"id\":\"order-13\"}");
        var forced = await ToolProcess.RunAsync(["dead-letters", "purge", "--yes", "--queue", run.Queue.Name]);

        Assert.Equal(1, declined.ExitCode);
        Assert.Contains("Delete 1 dead letter from", declined.Output, StringComparison.Ordinal);
        Assert.Contains("Nothing purged.", declined.Output, StringComparison.Ordinal);
        Assert.Equal(1, unanswered.ExitCode);
        Assert.Equal(1u, countAfterRefusals);
        Assert.True(confirmed.ExitCode == 0, confirmed.Error);
        Assert.Contains("purged 1 dead letter", confirmed.Output, StringComparison.Ordinal);
        Assert.True(forced.ExitCode == 0, forced.Error);
        Assert.DoesNotContain("[y/N]", forced.Output, StringComparison.Ordinal);
        Assert.Equal(0u, await run.Queue.CountAsync(run.Queue.DeadLetterQueue));
    }

    [Fact]
    public async Task ACommandOnAQueueWithNoDeadLetterQueue_FailsNamingIt()
    {
        var result = await ToolProcess.RunAsync(["dead-letters", "list", "--queue", $"jobdedup-test.none.{Guid.NewGuid():N}"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("The broker has no queue 'jobdedup-test.none.", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWrongPassword_IsReportedAsRefused()
    {
        var result = await ToolProcess.RunAsync(["dead-letters", "list", "--queue", "any"], broker: "amqp://guest:wrong-password@127.0.0.1:5672/");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("ACCESS_REFUSED", result.Error, StringComparison.Ordinal);
    }

    /// <summary>The message lines of a listing: those under the heading.</summary>
    private static IEnumerable<string> Rows(string listing) =>
        listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).SkipWhile(l => !l.StartsWith("# ", StringComparison.Ordinal)).Skip(1);

    /// <summary>The output with every age ("3s", "2m 05s") blanked, since two runs are seconds apart.</summary>
    private static string WithoutAges(string output) =>
        System.Text.RegularExpressions.Regex.Replace(output, @"\b\d+[smhd]( \d\d[smh])?\b", "<age>");

    private sealed class PoisonException(string message) : Exception(message);

    /// <summary>A real consumer whose handler throws a permanent failure while <see cref="Poisoned"/> is set.</summary>
    private sealed class PoisonRun : IAsyncDisposable
    {
        private readonly Dictionary<string, int> _succeeded = [];
        private ConsumerHost? _host;

        private PoisonRun(TestQueue queue)
        {
            Queue = queue;
            Settled = new Settlements(queue.Name);
        }

        public TestQueue Queue { get; }

        public Settlements Settled { get; }

        public volatile bool Poisoned = true;

        public static async Task<PoisonRun> StartAsync(Broker broker, string name, TimeSpan? window = null)
        {
            var run = new PoisonRun(await TestQueue.CreateAsync(broker, name));
            run._host = await ConsumerHost.StartAsync(
                run.Queue,
                (message, context, _) =>
                {
                    if (run.Poisoned)
                    {
                        throw new PoisonException($"poisoned {context.Key}");
                    }

                    lock (run._succeeded)
                    {
                        run._succeeded[context.Key] = run._succeeded.GetValueOrDefault(context.Key) + 1;
                    }

                    return ValueTask.FromResult(Encoding.UTF8.GetString(message.Body.Span));
                },
                dedup: o =>
                {
                    o.DedupeWindow = window ?? TimeSpan.Zero;
                    o.IsPermanentFailure = static ex => ex is PoisonException;
                });
            return run;
        }

        public int Succeeded(string key)
        {
            lock (_succeeded)
            {
                return _succeeded.GetValueOrDefault(key);
            }
        }

        /// <summary>Publishes a job while poisoned and waits until the consumer dead-lettered it.</summary>
        public async Task DeadLetterAsync(string key, string body, string? messageId = null)
        {
            var before = Settled["dead-letter"];
            var queued = await Queue.CountAsync(Queue.DeadLetterQueue);
            await Queue.PublishAsync(key, body, messageId);
            await Watchdog.Until(() => Settled["dead-letter"] == before + 1, $"{key} was dead-lettered");
            await Watchdog.Until(async () => await Queue.CountAsync(Queue.DeadLetterQueue) == queued + 1, $"{key} is in the dead-letter queue");
        }

        public async ValueTask DisposeAsync()
        {
            if (_host is not null)
            {
                await _host.DisposeAsync();
            }

            Settled.Dispose();
            await Queue.DisposeAsync();
        }
    }
}
