using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using JobDedup.Benchmarks.Baselines;

namespace JobDedup.Benchmarks.Suites;

/// <summary>
/// <see cref="Callers"/> callers on one key, issued from every core at once (Parallel.For), whose work takes about
/// 1 ms (<see cref="MillisecondDelay"/>). The work first waits for a gate that opens once every caller has called, so the
/// callers overlap by construction, not by luck of timing; every operation records how many times the work ran and how
/// long a run took.
/// </summary>
public class ContentionBenchmarks
{
    public const int Callers = 1000;
    private const string Key = "hot";

    private readonly SharedCall<string, int> _sharedCall = new();
    private readonly LazyCoalescer<string, int> _lazy = new();
    private readonly LockCoalescer<string, int> _lock = new();
    private readonly CancellationTokenSource _cancellation = new();
    private readonly Task<int>[] _callers = new Task<int>[Callers];
    private readonly Action<int> _callSharedCall;
    private readonly Action<int> _callSharedCallWithToken;
    private readonly Action<int> _callLazy;
    private readonly Action<int> _callLockDictionary;
    private readonly Action<int> _callPlain;
    private TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _runs;
    private long _workTicks;

    public ContentionBenchmarks()
    {
        Func<Task<int>> work = WorkAsync;
        _callSharedCall = i => _callers[i] = _sharedCall.RunAsync(Key, this, static (self, _) => self.WorkAsync());
        _callSharedCallWithToken = i => _callers[i] = _sharedCall.RunAsync(Key, this, static (self, _) => self.WorkAsync(), _cancellation.Token);
        _callLazy = i => _callers[i] = _lazy.RunAsync(Key, work);
        _callLockDictionary = i => _callers[i] = _lock.RunAsync(Key, this, static self => self.WorkAsync());
        _callPlain = i => _callers[i] = WorkAsync();
    }

    [Benchmark(Description = "SharedCall.RunAsync")]
    public int SharedCall() => RunCallers(_callSharedCall, nameof(SharedCall));

    [Benchmark(Description = "SharedCall.RunAsync, cancellable token")]
    public int SharedCallWithToken() => RunCallers(_callSharedCallWithToken, nameof(SharedCallWithToken));

    [Benchmark(Baseline = true, Description = "ConcurrentDictionary+Lazy")]
    public int Lazy() => RunCallers(_callLazy, nameof(Lazy));

    [Benchmark(Description = "lock+Dictionary (Go shape)")]
    public int LockDictionary() => RunCallers(_callLockDictionary, nameof(LockDictionary));

    [Benchmark(Description = "plain call (no coalescing)")]
    public int PlainCall() => RunCallers(_callPlain, nameof(PlainCall));

    [GlobalCleanup]
    public void Dispose() => _cancellation.Dispose();

    private async Task<int> WorkAsync()
    {
        Interlocked.Increment(ref _runs);
        await _release.Task.ConfigureAwait(false);
        var started = Stopwatch.GetTimestamp();
        await MillisecondDelay.Shared.WaitAsync().ConfigureAwait(false);
        Interlocked.Add(ref _workTicks, Stopwatch.GetTimestamp() - started);
        return 42;
    }

    private int RunCallers(Action<int> call, string benchmark)
    {
        Volatile.Write(ref _runs, 0);
        Volatile.Write(ref _workTicks, 0);
        _release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Parallel.For(0, Callers, call);
        _release.SetResult();

        var sum = 0;
        foreach (var caller in _callers)
        {
            sum += caller.GetAwaiter().GetResult();
        }

        if (sum != 42 * Callers)
        {
            throw new InvalidOperationException("A caller did not get the work's result.");
        }

        var runs = Volatile.Read(ref _runs);
        HandlerRunLog.Record(benchmark, runs, Stopwatch.GetElapsedTime(0, Volatile.Read(ref _workTicks) / Math.Max(1, runs)));
        return sum;
    }
}
