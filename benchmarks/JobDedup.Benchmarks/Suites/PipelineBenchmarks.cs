using BenchmarkDotNet.Attributes;
using JobDedup.Benchmarks.Load;

namespace JobDedup.Benchmarks.Suites;

/// <summary>
/// <see cref="Jobs"/> jobs over 10,000 keys from 16 concurrent producers, trivial handler: the deduplicator against a raw
/// bounded channel moving the same items. Results are per job (OperationsPerInvoke), so 1e9 / Mean is jobs per second.
/// The full 1M-job run is the <c>--pipeline</c> mode.
/// </summary>
public class PipelineBenchmarks
{
    public const int Jobs = 100_000;

    private readonly PipelineWorkload _workload = new(Jobs);
    private JobDeduplicator<JobItem, int>? _deduplicator;

    [GlobalSetup(Target = nameof(JobDeduplicator))]
    public void CreateDeduplicator() => _deduplicator = PipelineWorkload.CreateDeduplicator();

    [Benchmark(Baseline = true, OperationsPerInvoke = Jobs, Description = "raw bounded Channel")]
    public async Task RawChannel() => Expect(await _workload.RunRawChannelAsync().ConfigureAwait(false));

    [Benchmark(OperationsPerInvoke = Jobs, Description = "Channel + reply per job")]
    public async Task ChannelWithReply() => Expect(await _workload.RunChannelWithReplyAsync().ConfigureAwait(false));

    [Benchmark(OperationsPerInvoke = Jobs, Description = "JobDeduplicator.EnqueueAsync")]
    public async Task JobDeduplicator() => Expect(await _workload.RunDeduplicatorAsync(_deduplicator!).ConfigureAwait(false));

    [GlobalCleanup(Target = nameof(JobDeduplicator))]
    public void StopDeduplicator() => _deduplicator?.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static void Expect(long done)
    {
        if (done != Jobs)
        {
            throw new InvalidOperationException($"{done} of {Jobs} jobs came through.");
        }
    }
}
