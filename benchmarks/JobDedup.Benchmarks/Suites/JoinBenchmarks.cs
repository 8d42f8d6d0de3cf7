using BenchmarkDotNet.Attributes;
using JobDedup.Benchmarks.Baselines;

namespace JobDedup.Benchmarks.Suites;

/// <summary>
/// A caller joining a flight that is already running: the cost of being a duplicate. Each iteration starts one
/// flight held open by a gate, makes <see cref="JoinsPerIteration"/> callers join it, then opens the gate and waits for
/// every caller outside the measurement.
/// </summary>
[InvocationCount(JoinsPerIteration)]
public class JoinBenchmarks
{
    public const int JoinsPerIteration = 1 << 16;
    private const string Key = "hot";

    private readonly SharedCall<string, int> _sharedCall = new();
    private readonly LazyCoalescer<string, int> _lazy = new();
    private readonly LockCoalescer<string, int> _lock = new();
    private readonly Task<int>[] _joined = new Task<int>[JoinsPerIteration];
    private readonly CancellationTokenSource _cancellation = new();
    private readonly Func<Task<int>> _gateWork;
    private TaskCompletionSource<int> _gate = NewGate();
    private Task<int>? _leader;
    private int _next;

    public JoinBenchmarks()
    {
        _gateWork = () => _gate.Task;
    }

    [IterationSetup(Targets = new[] { nameof(SharedCall), nameof(SharedCallWithToken) })]
    public void StartSharedCallFlight()
    {
        _gate = NewGate();
        _leader = _sharedCall.RunAsync(Key, _gate, static (gate, _) => gate.Task);
    }

    [IterationSetup(Targets = new[] { nameof(Lazy), nameof(LazyWithToken) })]
    public void StartLazyFlight()
    {
        _gate = NewGate();
        _leader = _lazy.RunAsync(Key, _gateWork);
    }

    [IterationSetup(Targets = new[] { nameof(LockDictionary), nameof(LockDictionaryWithToken) })]
    public void StartLockFlight()
    {
        _gate = NewGate();
        _leader = _lock.RunAsync(Key, _gate, static gate => gate.Task);
    }

    [IterationCleanup]
    public void FinishFlight()
    {
        _gate.SetResult(42);
        _leader!.GetAwaiter().GetResult();
        var joined = Math.Min(_next, _joined.Length);
        for (var i = 0; i < joined; i++)
        {
            if (_joined[i].GetAwaiter().GetResult() != 42)
            {
                throw new InvalidOperationException("A joined caller did not get the flight's result.");
            }
        }

        Array.Clear(_joined);
        _next = 0;
    }

    [BenchmarkCategory("CancellationToken.None")]
    [Benchmark(Description = "SharedCall.RunAsync")]
    public void SharedCall() => Add(_sharedCall.RunAsync(Key, _gate, static (gate, _) => gate.Task));

    [BenchmarkCategory("CancellationToken.None")]
    [Benchmark(Baseline = true, Description = "ConcurrentDictionary+Lazy")]
    public void Lazy() => Add(_lazy.RunAsync(Key, _gateWork));

    [BenchmarkCategory("CancellationToken.None")]
    [Benchmark(Description = "lock+Dictionary (Go shape)")]
    public void LockDictionary() => Add(_lock.RunAsync(Key, _gate, static gate => gate.Task));

    [BenchmarkCategory("cancellable token")]
    [Benchmark(Description = "SharedCall.RunAsync")]
    public void SharedCallWithToken() => Add(_sharedCall.RunAsync(Key, _gate, static (gate, _) => gate.Task, _cancellation.Token));

    [BenchmarkCategory("cancellable token")]
    [Benchmark(Baseline = true, Description = "ConcurrentDictionary+Lazy")]
    public void LazyWithToken() => Add(_lazy.RunAsync(Key, _gateWork, _cancellation.Token));

    [BenchmarkCategory("cancellable token")]
    [Benchmark(Description = "lock+Dictionary (Go shape)")]
    public void LockDictionaryWithToken() => Add(_lock.RunAsync(Key, _gate, static gate => gate.Task, _cancellation.Token));

    [GlobalCleanup]
    public void Dispose() => _cancellation.Dispose();

    private static TaskCompletionSource<int> NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Add(Task<int> joined)
    {
        // Kept so the cleanup can check every caller; wraps rather than fails if an iteration runs longer.
        _joined[_next++ & (JoinsPerIteration - 1)] = joined;
    }
}
