using System.Collections.Concurrent;

namespace JobDedup.Testing;

/// <summary>
/// Counts handler runs as they start and end: how many ran at once at most, how many started while another was
/// running, and the order of starts and ends ("start-1", "end-1", "start-2" …) for ordering assertions.
/// </summary>
public sealed class RunTracker
{
    private readonly ConcurrentQueue<string> _events = new();
    private int _runs;
    private int _running;
    private int _maxConcurrent;
    private int _overlaps;

    /// <summary>Gets how many runs started.</summary>
    public int Runs => Volatile.Read(ref _runs);

    /// <summary>Gets how many runs are inside the handler now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Gets the most runs that were inside the handler at once.</summary>
    public int MaxConcurrent => Volatile.Read(ref _maxConcurrent);

    /// <summary>Gets how many runs started while another was still inside the handler.</summary>
    public int Overlaps => Volatile.Read(ref _overlaps);

    /// <summary>Gets the starts and ends in the order they happened.</summary>
    public IReadOnlyList<string> Events => [.. _events];

    /// <summary>Records a run starting.</summary>
    /// <returns>The run's number, from 1.</returns>
    public int Start()
    {
        var running = Interlocked.Increment(ref _running);
        var run = Interlocked.Increment(ref _runs);
        _events.Enqueue($"start-{run}");
        if (running > 1)
        {
            Interlocked.Increment(ref _overlaps);
        }

        var max = Volatile.Read(ref _maxConcurrent);
        while (running > max)
        {
            var seen = Interlocked.CompareExchange(ref _maxConcurrent, running, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }

        return run;
    }

    /// <summary>Records a run ending.</summary>
    /// <param name="run">The number <see cref="Start"/> returned.</param>
    public void End(int run)
    {
        _events.Enqueue($"end-{run}");
        Interlocked.Decrement(ref _running);
    }
}
