using BenchmarkDotNet.Attributes;
using JobDedup.Benchmarks.Baselines;

namespace JobDedup.Benchmarks.Suites;

/// <summary>
/// One caller, a different key each call, work that is already complete: the fixed cost a coalescer adds to every
/// call that turns out not to be a duplicate (take the key, run the work, let the key go).
/// </summary>
public class UncontendedBenchmarks
{
    private const int KeyCount = 1024;
    private static readonly Task<int> Completed = Task.FromResult(42);

    private readonly string[] _keys = Keys.Create(KeyCount, "user-");
    private readonly SharedCall<string, int> _sharedCall = new();
    private readonly LazyCoalescer<string, int> _lazy = new();
    private readonly ClosureLazyCoalescer<string, int> _closureLazy = new();
    private readonly LockCoalescer<string, int> _lock = new();
    private readonly Func<Task<int>> _work = static () => Completed;
    private readonly Func<string, Task<int>> _keyedWork = static _ => Completed;
    private int _next;

    [Benchmark(Description = "SharedCall.RunAsync")]
    public int SharedCall() =>
        _sharedCall.RunAsync(NextKey(), Completed, static (done, _) => done).GetAwaiter().GetResult();

    [Benchmark(Baseline = true, Description = "ConcurrentDictionary+Lazy")]
    public int Lazy() => _lazy.RunAsync(NextKey(), _work).GetAwaiter().GetResult();

    [Benchmark(Description = "ConcurrentDictionary+Lazy, closures")]
    public int LazyWithClosures() => _closureLazy.RunAsync(NextKey(), _keyedWork).GetAwaiter().GetResult();

    [Benchmark(Description = "lock+Dictionary (Go shape)")]
    public int LockDictionary() => _lock.RunAsync(NextKey(), Completed, static done => done).GetAwaiter().GetResult();

    [Benchmark(Description = "plain call")]
    public int PlainCall() => _keyedWork(NextKey()).GetAwaiter().GetResult();

    [GlobalCleanup]
    public void CheckEveryKeyLeft()
    {
        // Every call finished, so a key still held would be a leak in the code measured.
        if (_sharedCall.GetStats().Active != 0 || _lazy.Count != 0 || _lock.Count != 0)
        {
            throw new InvalidOperationException("A coalescer still holds a key after its work completed.");
        }
    }

    private string NextKey() => _keys[_next++ & (KeyCount - 1)];
}
