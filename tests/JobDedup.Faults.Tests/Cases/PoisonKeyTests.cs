using JobDedup.Faults.Tests.Servers;
using JobDedup.Faults.Tests.Traffic;
using JobDedup.RabbitMq;
using Xunit.Abstractions;

namespace JobDedup.Faults.Tests.Cases;

[Collection(FaultCollection.Name)]
public sealed class PoisonKeyTests(FaultServers servers, ITestOutputHelper output)
{
    /// <summary>
    /// The documented bound on handler runs for one message with the worker's default retry settings (in-process
    /// attempts times broker deliveries).
    /// </summary>
    internal const int RunsPerMessageBound = 6;

    [Fact]
    public async Task PoisonKey_FailsOnEveryRun_RunsWithinTheBoundIsDeadLetteredAndTheOtherKeysFlow()
    {
        await using var run = await FaultCase.StartAsync(servers, output, "poison");
        run.Sink.StatusFor = key => key switch
        {
            _ when key.StartsWith("poison-", StringComparison.Ordinal) => 500,
            "refused" => 422,
            _ => 200,
        };

        // Default retry settings but for the broker's delays, which only set how long the case takes.
        var worker = run.StartWorker("w1", run.Settings("w1", ("RetryDelays__0", "00:00:00.200")));
        await worker.WaitConsumingAsync();

        var messages = Enumerable.Range(0, 300).Select(i => FaultMessage.Json($"m{i}", $"good-{i % 100}"))
            .Concat(Enumerable.Range(0, 3).Select(i => FaultMessage.Json($"p{i}", $"poison-{i}")))
            .Append(FaultMessage.Json("r0", "refused"))
            .ToList();
        await run.PublishAsync(messages);
        await run.FinishAsync(TimeSpan.FromSeconds(90));

        var runs = run.Sink.RunsPerKey();
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(1, runs.GetValueOrDefault($"good-{i}"));
        }

        for (var i = 0; i < 3; i++)
        {
            var poison = runs.GetValueOrDefault($"poison-{i}");
            run.Note($"poison-{i} ran {poison} times before it was dead-lettered");
            Assert.InRange(poison, 1, RunsPerMessageBound);
            Assert.Equal(DeadLetterReasons.HandlerFailed, run.Ledger.Dead[$"p{i}"].Reason);
        }

        Assert.Equal(1, runs.GetValueOrDefault("refused"));
        Assert.Equal(DeadLetterReasons.PermanentFailure, run.Ledger.Dead["r0"].Reason);
        Assert.Equal(4, run.Ledger.Dead.Count);
    }
}
