using JobDedup.RabbitMq;
using JobDedup.Worker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace JobDedup.Worker.Tests.Pipelines;

[Collection(BrokerCollection.Name)]
public sealed class DuplicatePolicyWorkerTests(Broker broker)
{
    [Fact]
    public async Task Worker_KeepLatest_MessagesDuringARunPostOnceMoreAndEveryMessageIsAcked()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "worker-keeplatest");
        await using var sink = await HttpSink.StartAsync();
        var firstCall = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        sink.Respond = async (key, call, ct) =>
        {
            if (call == 1)
            {
                await firstCall.Task.WaitAsync(ct);
            }

            return (200, $"handled {key} call {call}");
        };
        await queue.DeclareAsync();
        var worker = await InProcessWorker.StartAsync(WorkerSettingsFor.Pipeline(queue, sink, ("OnDuplicate", "KeepLatest")));
        try
        {
            var dedup = worker.Services.GetRequiredKeyedService<IJobDeduplicator<RabbitMqMessage, byte[]>>("orders");
            await queue.PublishAsync(key: null, "{\"id\":\"evt_1\",\"n\":0}");
            await Watchdog.Until(() => sink.TotalCalls == 1, "the first message's request is in progress");
            for (var n = 1; n <= 3; n++)
            {
                await queue.PublishAsync(key: null, $"{{\"id\":\"evt_1\",\"n\":{n}}}");
            }

            // The first of the three starts the pending run; the other two join it.
            await Watchdog.Until(() => dedup.GetStats().Hits == 2, "the three messages are held by the pending run");
            Assert.Equal(1, sink.TotalCalls);
            firstCall.SetResult();
            await Watchdog.Until(() => sink.TotalCalls == 2 && dedup.GetStats().Active == 0, "the pending run posted and ended");
        }
        finally
        {
            await worker.DisposeAsync();
        }

        Assert.Equal(2, sink.Calls["evt_1"]);
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
        Assert.Equal(0u, await queue.CountAsync(queue.DeadLetterQueue));
    }
}
