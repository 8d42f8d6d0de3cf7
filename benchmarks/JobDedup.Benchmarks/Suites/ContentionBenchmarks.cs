using System.Diagnostics;
using static System.FormattableString;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using JobDedup.Benchmarks.Baselines;
using JobDedup.Benchmarks.Load;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using ZiggyCreatures.Caching.Fusion;

namespace JobDedup.Benchmarks.Suites;

/// <summary>
/// <see cref="Callers"/> callers on one key, issued from every core at once (Parallel.For), whose work takes about
/// 1 ms (<see cref="MillisecondDelay"/>). The work first waits for a gate that opens once every caller has called, so the
/// callers overlap by construction, not by luck of timing; every operation records how many times the work ran and how
/// long a run took. Besides the hand-written coalescers, the two libraries a .NET user would reach for instead of
/// <see cref="SharedCall{TKey, TResult}"/>: HybridCache with both of its caches off (only its stampede protection runs)
/// and FusionCache with a key of its own per operation (so it coalesces, but never serves an earlier operation's value).
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class ContentionBenchmarks
{
    public const int Callers = 1000;
    public const string NoToken = "CancellationToken.None";
    public const string WithToken = "cancellable token";

    /// <summary>How long FusionCache keeps an operation's value; each operation has its own key, so none is read again.</summary>
    public static readonly TimeSpan FusionCacheDuration = TimeSpan.FromMinutes(1);

    /// <summary>HybridCache with its local and distributed caches off: only the stampede protection is left.</summary>
    public static readonly HybridCacheEntryFlags HybridCacheFlags = HybridCacheEntryFlags.DisableLocalCache | HybridCacheEntryFlags.DisableDistributedCache;

    private const string Key = "hot";
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(10);
    private static readonly JobItem Job = new(Key, 42);

    private readonly SharedCall<string, int> _sharedCall = new();
    private readonly LazyCoalescer<string, int> _lazy = new();
    private readonly LockCoalescer<string, int> _lock = new();
    private readonly CancellationTokenSource _cancellation = new();
    private readonly ValueTask<int>[] _callers = new ValueTask<int>[Callers];
    private readonly ValueTask<JobOutcome<int>>[] _outcomes = new ValueTask<JobOutcome<int>>[Callers];
    private readonly HybridCacheEntryOptions _hybridOptions = new() { Flags = HybridCacheFlags };
    private readonly Func<FusionCacheFactoryExecutionContext<int>, CancellationToken, Task<int>> _fusionWork;
    private readonly Action<int> _callSharedCall;
    private readonly Action<int> _callSharedCallWithToken;
    private readonly Action<int> _callLazy;
    private readonly Action<int> _callLazyWithToken;
    private readonly Action<int> _callLockDictionary;
    private readonly Action<int> _callHybridCache;
    private readonly Action<int> _callFusionCache;
    private readonly Action<int> _callDeduplicator;
    private readonly Action<int> _callPlain;
    private TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private HybridCache? _hybridCache;
    private ServiceProvider? _hybridServices;
    private FusionCache? _fusionCache;
    private JobDeduplicator<JobItem, int>? _deduplicator;
    private string _fusionKey = Key;
    private long _operation;
    private int _runs;
    private long _workTicks;

    public ContentionBenchmarks()
    {
        Func<Task<int>> work = WorkAsync;
        _fusionWork = (_, _) => WorkAsync();
        _callSharedCall = i => _callers[i] = new(_sharedCall.RunAsync(Key, this, static (self, _) => self.WorkAsync()));
        _callSharedCallWithToken = i => _callers[i] = new(_sharedCall.RunAsync(Key, this, static (self, _) => self.WorkAsync(), _cancellation.Token));
        _callLazy = i => _callers[i] = new(_lazy.RunAsync(Key, work));
        _callLazyWithToken = i => _callers[i] = new(_lazy.RunAsync(Key, work, _cancellation.Token));
        _callLockDictionary = i => _callers[i] = new(_lock.RunAsync(Key, this, static self => self.WorkAsync()));
        _callHybridCache = i => _callers[i] = _hybridCache!.GetOrCreateAsync(Key, this, static (self, _) => new ValueTask<int>(self.WorkAsync()), _hybridOptions);
        _callFusionCache = i => _callers[i] = _fusionCache!.GetOrSetAsync(_fusionKey, _fusionWork, default(MaybeValue<int>));
        _callDeduplicator = i => _outcomes[i] = _deduplicator!.EnqueueAsync(Key, Job);
        _callPlain = i => _callers[i] = new(WorkAsync());
    }

    [GlobalSetup(Target = nameof(HybridCache))]
    public void CreateHybridCache()
    {
        _hybridServices = new ServiceCollection().AddHybridCache().Services.BuildServiceProvider();
        _hybridCache = _hybridServices.GetRequiredService<HybridCache>();
    }

    [GlobalSetup(Target = nameof(FusionCache))]
    public void CreateFusionCache() =>
        _fusionCache = new FusionCache(new FusionCacheOptions { DefaultEntryOptions = new FusionCacheEntryOptions { Duration = FusionCacheDuration } });

    [GlobalSetup(Target = nameof(JobDeduplicator))]
    public void CreateDeduplicator() =>
        _deduplicator = new JobDeduplicator<JobItem, int>((_, _, _) => new ValueTask<int>(WorkAsync()), new JobDedupOptions<JobItem> { Name = "stampede" });

    [BenchmarkCategory(NoToken)]
    [Benchmark(Description = "SharedCall.RunAsync")]
    public int SharedCall() => RunCallers(_callSharedCall, nameof(SharedCall));

    [BenchmarkCategory(NoToken)]
    [Benchmark(Description = "JobDeduplicator.EnqueueAsync")]
    public int JobDeduplicator() => RunCallers(_callDeduplicator, nameof(JobDeduplicator), Awaited.Outcomes);

    [BenchmarkCategory(NoToken)]
    [Benchmark(Baseline = true, Description = "ConcurrentDictionary+Lazy")]
    public int Lazy() => RunCallers(_callLazy, nameof(Lazy));

    [BenchmarkCategory(NoToken)]
    [Benchmark(Description = "HybridCache.GetOrCreateAsync, caches off")]
    public int HybridCache() => RunCallers(_callHybridCache, nameof(HybridCache));

    [BenchmarkCategory(NoToken)]
    [Benchmark(Description = "FusionCache.GetOrSetAsync, key per op")]
    public int FusionCache() => RunCallers(_callFusionCache, nameof(FusionCache), Awaited.Callers, freshKey: true);

    [BenchmarkCategory(NoToken)]
    [Benchmark(Description = "lock+Dictionary (Go shape)")]
    public int LockDictionary() => RunCallers(_callLockDictionary, nameof(LockDictionary));

    [BenchmarkCategory(NoToken)]
    [Benchmark(Description = "plain call (no coalescing)")]
    public int PlainCall() => RunCallers(_callPlain, nameof(PlainCall));

    [BenchmarkCategory(WithToken)]
    [Benchmark(Description = "SharedCall.RunAsync")]
    public int SharedCallWithToken() => RunCallers(_callSharedCallWithToken, nameof(SharedCallWithToken));

    [BenchmarkCategory(WithToken)]
    [Benchmark(Baseline = true, Description = "ConcurrentDictionary+Lazy")]
    public int LazyWithToken() => RunCallers(_callLazyWithToken, nameof(LazyWithToken));

    [GlobalCleanup]
    public void Dispose()
    {
        _cancellation.Dispose();
        _hybridServices?.Dispose();
        _fusionCache?.Dispose();
        _deduplicator?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private async Task<int> WorkAsync()
    {
        Interlocked.Increment(ref _runs);
        await _release.Task.ConfigureAwait(false);
        var started = Stopwatch.GetTimestamp();
        await MillisecondDelay.Shared.WaitAsync().ConfigureAwait(false);
        Interlocked.Add(ref _workTicks, Stopwatch.GetTimestamp() - started);
        return 42;
    }

    private int RunCallers(Action<int> call, string benchmark, Awaited awaited = Awaited.Callers, bool freshKey = false)
    {
        Volatile.Write(ref _runs, 0);
        Volatile.Write(ref _workTicks, 0);
        _release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (freshKey)
        {
            // One string per operation of 1,000 callers: a fresh key, so no operation reads the value of the one before.
            _fusionKey = "hot-" + (++_operation).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var joinedBefore = awaited == Awaited.Outcomes ? _deduplicator!.GetStats().Hits : 0;
        Parallel.For(0, Callers, call);
        if (awaited == Awaited.Outcomes)
        {
            WaitUntilJoined(joinedBefore);
        }

        _release.SetResult();

        var sum = 0;
        for (var i = 0; i < Callers; i++)
        {
            sum += awaited == Awaited.Outcomes ? _outcomes[i].GetAwaiter().GetResult().GetValueOrThrow() : _callers[i].GetAwaiter().GetResult();
            _callers[i] = default;
            _outcomes[i] = default;
        }

        if (sum != 42 * Callers)
        {
            throw new InvalidOperationException("A caller did not get the work's result.");
        }

        var runs = Volatile.Read(ref _runs);
        HandlerRunLog.Record(benchmark, runs, Stopwatch.GetElapsedTime(0, Volatile.Read(ref _workTicks) / Math.Max(1, runs)));
        return sum;
    }

    /// <summary>
    /// The pipeline's callers are queued when <c>EnqueueAsync</c> returns, not yet joined: the gate opens only once the
    /// dispatcher has joined every one but the leader to the flight, so that the callers overlap by construction here
    /// too (otherwise a caller still queued when the run ends starts a second run). Bounded: a second flight for the key
    /// would keep the count short, and then the operation fails instead of waiting forever.
    /// </summary>
    private void WaitUntilJoined(long joinedBefore)
    {
        var waited = Stopwatch.StartNew();
        var spin = default(SpinWait);
        while (_deduplicator!.GetStats().Hits - joinedBefore < Callers - 1)
        {
            if (waited.Elapsed > JoinTimeout)
            {
                throw new InvalidOperationException(Invariant($"Only {_deduplicator.GetStats().Hits - joinedBefore} of {Callers - 1} callers joined the flight within {JoinTimeout.TotalSeconds:0} s."));
            }

            spin.SpinOnce();
        }
    }

    /// <summary>Which array an operation's callers left their pending results in.</summary>
    private enum Awaited
    {
        Callers,
        Outcomes,
    }
}
