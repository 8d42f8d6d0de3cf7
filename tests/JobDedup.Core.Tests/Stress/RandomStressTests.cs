using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Xunit.Abstractions;

namespace JobDedup.Core.Tests.Stress;

/// <summary>
/// A bounded random workload over the real engine: callers on a few keys with handlers that succeed, fail
/// synchronously or asynchronously, fail once and succeed on the retry, or block in their synchronous part; callers
/// canceled from other tasks; and <c>Forget</c> calls. The seed is fixed and printed, the operations are capped in
/// count and time. It asserts the engine's promises: at most one handler run per key at any moment, every caller gets
/// exactly one outcome and none hangs, and no arrival after a <c>Forget</c> gets an outcome produced before it.
/// </summary>
public sealed class RandomStressTests(ITestOutputHelper output)
{
    private const int Seed = 20261201;
    private const int Operations = 3000;
    private const int Keys = 6;
    private static readonly TimeSpan IssueBudget = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SettleBudget = TimeSpan.FromSeconds(8);

    private readonly ConcurrentDictionary<string, StrongBox<int>> _inside = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, (string Key, long Produced)> _runs = new();
    private readonly ConcurrentDictionary<int, (string Key, long Entered)> _active = new();
    private readonly ConcurrentQueue<(string Key, long Began, long Returned)> _forgets = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private long _clock;
    private int _runCount;

    [Fact]
    public async Task EnqueueAsync_RandomCancellationsFailuresRetriesAndForgets_KeepEveryPromise()
    {
        output.WriteLine($"seed {Seed}, at most {Operations} operations on {Keys} keys, {IssueBudget.TotalSeconds:F0} s to issue them");
        var random = new Random(Seed);
        await using var deduplicator = new JobDeduplicator<int, int>(
            Handle,
            new JobDedupOptions<int>
            {
                Name = "stress",
                MaxRetryAttempts = 1,
                RetryDelay = TimeSpan.Zero,
                RetryJitter = false,
                DedupeWindow = TimeSpan.FromMinutes(5),
                MaxConcurrentHandlers = 4,
            },
            outcomeStore: new YieldingStore<int>());

        var callers = new List<Task<string?>>();
        var watch = Stopwatch.StartNew();
        var issued = 0;
        for (; issued < Operations && watch.Elapsed < IssueBudget; issued++)
        {
            var key = $"key-{random.Next(Keys)}";
            var roll = random.Next(100);
            if (roll < 12)
            {
                var began = Tick();
                deduplicator.Forget(key);
                _forgets.Enqueue((key, began, Tick()));
                continue;
            }

            // The job says how its handler behaves; the token how its caller may leave.
            var job = random.Next(6);
            var leave = random.Next(4);
            callers.Add(CallAsync(deduplicator, key, job, leave, random.Next(3)));
            if (callers.Count % 32 == 0)
            {
                await Task.Yield();
            }
        }

        var all = Task.WhenAll(callers);
        var settled = await Task.WhenAny(all, Task.Delay(SettleBudget));
        var hung = callers.Count(static c => !c.IsCompleted);
        output.WriteLine($"{issued} operations ({callers.Count} callers, {_forgets.Count} forgets), {_runCount} handler runs, {watch.Elapsed.TotalSeconds:F1} s");
        Assert.True(settled == all, $"{hung} of {callers.Count} callers got no outcome within {SettleBudget.TotalSeconds:F0} s (seed {Seed})");

        foreach (var problem in await all)
        {
            if (problem is not null)
            {
                _violations.Enqueue(problem);
            }
        }

        foreach (var group in _violations.GroupBy(static v => v.Contains("Forget ran", StringComparison.Ordinal) ? "forgotten outcome shared" : v[(v.LastIndexOf('(') + 1)..^1]))
        {
            output.WriteLine($"{group.Count()} x {group.Key}");
        }

        Assert.True(_violations.IsEmpty, $"seed {Seed}: {_violations.Count} violation(s), the first: {string.Join(Environment.NewLine, _violations.Take(5))}");
    }

    private async Task<string?> CallAsync(JobDeduplicator<int, int> deduplicator, string key, int job, int leave, int delay)
    {
        using var source = new CancellationTokenSource();
        var token = leave == 0 ? CancellationToken.None : source.Token;
        if (leave == 1)
        {
            // Canceled from another task, a moment later.
            _ = Task.Run(async () =>
            {
                await Task.Delay(delay).ConfigureAwait(false);
                await source.CancelAsync().ConfigureAwait(false);
            });
        }

        var arrived = Tick();
        var outcome = await deduplicator.EnqueueAsync(key, job, token).ConfigureAwait(false);
        if (leave == 2)
        {
            await source.CancelAsync().ConfigureAwait(false); // too late to matter
        }

        return Check(key, job, token.CanBeCanceled, arrived, outcome);
    }

    private string? Check(string key, int job, bool couldLeave, long arrived, JobOutcome<int> outcome)
    {
        if (outcome.Key != key)
        {
            return $"a caller of '{key}' got an outcome for '{outcome.Key}'";
        }

        switch (outcome.Status)
        {
            case JobStatus.Canceled when couldLeave:
                return null;
            case JobStatus.Failed when outcome.Exception is PlannedFailure:
                return null;
            case JobStatus.Succeeded:
                break;
            default:
                return $"a caller of '{key}' (job {job}, token {couldLeave}) got {outcome}";
        }

        if (!_runs.TryGetValue(outcome.Value, out var run) || run.Key != key)
        {
            return $"a caller of '{key}' got value {outcome.Value}, which no run of the key produced";
        }

        if (outcome.IsShared && _forgets.FirstOrDefault(f => f.Key == key && run.Produced < f.Began && f.Returned < arrived) is { Key: not null } forget)
        {
            return $"an arrival on '{key}' at t={arrived} got run {outcome.Value} ({outcome.Role}), produced at t={run.Produced}, " +
                $"though Forget ran from t={forget.Began} to t={forget.Returned}";
        }

        return null;
    }

    private async ValueTask<int> Handle(int job, JobContext context, CancellationToken token)
    {
        var run = Interlocked.Increment(ref _runCount);
        var entered = Tick();
        _active[run] = (context.Key, entered);
        var inside = Interlocked.Increment(ref _inside.GetOrAdd(context.Key, static _ => new StrongBox<int>()).Value);
        if (inside > 1)
        {
            // Says whether the key was forgotten while the other run was inside, to tell that case from the others (a
            // Forget before the other run entered may still have made room for this one).
            var others = _active.Where(a => a.Key != run && a.Value.Key == context.Key).Select(static a => a.Value.Entered).DefaultIfEmpty(entered).Min();
            var forgotten = _forgets.Any(f => f.Key == context.Key && f.Began > others);
            _violations.Enqueue($"run {run} of '{context.Key}' started while {inside - 1} other run(s) of the key had not ended" +
                (forgotten ? " (the key was forgotten after the other run entered)" : " (no Forget of the key after the other run entered)"));
        }

        try
        {
            switch (job)
            {
                case 0:
                    break;
                case 1:
                    await Task.Yield();
                    break;
                case 2:
                    throw new PlannedFailure("synchronous");
                case 3:
                    await Task.Yield();
                    throw new PlannedFailure("asynchronous");
                case 4 when context.Attempt == 1:
                    await Task.Yield();
                    throw new PlannedFailure("first attempt");
                case 5:
                    Thread.Sleep(1); // a blocking call that ignores the token
                    break;
            }

            _runs[run] = (context.Key, Tick());
            return run;
        }
        finally
        {
            _active.TryRemove(run, out _);
            Interlocked.Decrement(ref _inside[context.Key].Value);
        }
    }

    private long Tick() => Interlocked.Increment(ref _clock);
}
