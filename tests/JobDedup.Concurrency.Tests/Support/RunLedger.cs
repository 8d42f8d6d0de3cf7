using System.Collections.Concurrent;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;

namespace JobDedup.Concurrency.Tests.Support;

/// <summary>
/// Counts the handler runs inside each key at every moment: a run enters when the handler starts and exits when it
/// has really ended. The first time two runs of one key are inside at once, the ledger keeps a description of it.
/// </summary>
/// <remarks>
/// Only atomic operations and a concurrent map are used: a handler may run on a thread the testing engine does not
/// control, where a <c>lock</c> would not exclude the controlled threads.
/// </remarks>
internal sealed class RunLedger
{
    private readonly ConcurrentDictionary<string, Counter> _keys = new(StringComparer.Ordinal);
    private int _runs;
    private string? _violation;

    /// <summary>Gets the first overlap seen, or <see langword="null"/> when every key ran one run at a time.</summary>
    public string? Violation => Volatile.Read(ref _violation);

    /// <summary>Gets how many runs entered in all.</summary>
    public int Runs => Volatile.Read(ref _runs);

    /// <summary>Records a run entering its handler and asserts that it is alone in its key.</summary>
    /// <returns>The run's number, 1 for the first run of the ledger.</returns>
    public int Enter(string key)
    {
        var run = Interlocked.Increment(ref _runs);
        var inside = Interlocked.Increment(ref _keys.GetOrAdd(key, static _ => new Counter()).Inside);
        if (inside > 1)
        {
            Interlocked.CompareExchange(
                ref _violation,
                $"run {run} of key '{key}' entered the handler while {inside - 1} other run(s) of the key had not ended",
                null);
        }

        Specification.Assert(inside <= 1, "run {0} of key '{1}' overlapped another run of the key", run, key);
        return run;
    }

    /// <summary>
    /// Runs <paramref name="body"/> as one counted run of <paramref name="key"/>; the default body yields twice with a
    /// scheduling point between, the smallest work that other tasks can interleave with.
    /// </summary>
    /// <returns>The run's number.</returns>
    public async Task<int> CountAsync(string key, Func<Task>? body = null)
    {
        var run = Enter(key);
        try
        {
            await (body ?? YieldTwice)().ConfigureAwait(false);
            return run;
        }
        finally
        {
            Exit(key);
        }
    }

    /// <summary>Records a run leaving its handler.</summary>
    public void Exit(string key) => Interlocked.Decrement(ref _keys[key].Inside);

    /// <summary>Returns how many runs of the key are inside their handler now.</summary>
    public int Inside(string key) => _keys.TryGetValue(key, out var counter) ? Volatile.Read(ref counter.Inside) : 0;

    /// <summary>Asserts, from the controlled test body, that no key ever had two runs inside at once.</summary>
    public void AssertOneRunAtATime() =>
        Specification.Assert(Violation is null, "at most one handler run per key at any moment: {0}", Violation ?? string.Empty);

    private static async Task YieldTwice()
    {
        await Task.Yield();
        SchedulingPoint.Interleave();
        await Task.Yield();
    }

    private sealed class Counter
    {
        public int Inside;
    }
}
