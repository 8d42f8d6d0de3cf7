using System.Collections.Concurrent;

namespace JobDedup.Concurrency.Tests.Support;

/// <summary>
/// Orders what a Forget test needs on one clock: when each run produced its value, when each <c>Forget</c> began and
/// returned, and when each arrival called <c>EnqueueAsync</c>. An arrival that called after a <c>Forget</c> returned
/// must never get, as a shared outcome, a value produced before that <c>Forget</c> began.
/// </summary>
internal sealed class ForgetTimeline
{
    private readonly ConcurrentDictionary<int, long> _produced = new();
    private readonly ConcurrentQueue<(long Began, long Returned)> _forgets = new();
    private long _clock;

    /// <summary>Reads the clock and moves it on.</summary>
    public long Tick() => Interlocked.Increment(ref _clock);

    /// <summary>Records that run <paramref name="run"/> produced its value now.</summary>
    public void Produced(int run) => _produced[run] = Tick();

    /// <summary>Calls <c>Forget</c> and records when it began and returned.</summary>
    public void Forget(IJobDeduplicator<int, int> deduplicator, string key)
    {
        var began = Tick();
        deduplicator.Forget(key);
        _forgets.Enqueue((began, Tick()));
    }

    /// <summary>
    /// Describes the first shared outcome that resurrects a forgotten value, or returns <see langword="null"/>.
    /// </summary>
    /// <param name="arrived">When the arrival called <c>EnqueueAsync</c> (from <see cref="Tick"/>).</param>
    /// <param name="outcome">What it got.</param>
    public string? Resurrection(long arrived, JobOutcome<int> outcome)
    {
        if (!outcome.IsSucceeded || !outcome.IsShared || !_produced.TryGetValue(outcome.Value, out var produced))
        {
            return null;
        }

        foreach (var (began, returned) in _forgets)
        {
            if (produced < began && returned < arrived)
            {
                return $"an arrival at t={arrived} got run {outcome.Value} ({outcome.Role}), produced at t={produced}, " +
                    $"though Forget ran from t={began} to t={returned}";
            }
        }

        return null;
    }
}
