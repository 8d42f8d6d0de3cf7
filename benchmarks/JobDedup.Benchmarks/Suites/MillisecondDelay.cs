using System.Diagnostics;

namespace JobDedup.Benchmarks.Suites;

/// <summary>
/// An awaitable delay of about one millisecond. <c>Task.Delay(1)</c> took about 4 ms on the 2-core benchmark machine
/// (the runtime's timer granularity; the report measures it again), so a dedicated thread sleeping 1 ms at a time
/// completes the delays that are due instead. No thread-pool thread is held while waiting, as with real I/O.
/// </summary>
public sealed class MillisecondDelay
{
    public static readonly MillisecondDelay Shared = new();

    private readonly Lock _sync = new();
    private readonly Queue<(long Due, TaskCompletionSource Done)> _pending = new();
    private readonly AutoResetEvent _wake = new(initialState: false);

    private MillisecondDelay()
    {
        new Thread(Run) { IsBackground = true, Name = "MillisecondDelay" }.Start();
    }

    /// <summary>Times <c>Task.Delay(1)</c> here, for the report: the reason this class exists.</summary>
    /// <returns>The median of a few delays.</returns>
    public static async Task<TimeSpan> MeasureTaskDelayAsync()
    {
        var samples = new List<TimeSpan>();
        for (var i = 0; i < 21; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await Task.Delay(1).ConfigureAwait(false);
            samples.Add(Stopwatch.GetElapsedTime(started));
        }

        samples.Sort();
        return samples[samples.Count / 2];
    }

    public Task WaitAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var due = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 1000);
        bool wasEmpty;
        lock (_sync)
        {
            wasEmpty = _pending.Count == 0;
            _pending.Enqueue((due, done));
        }

        if (wasEmpty)
        {
            _wake.Set();
        }

        return done.Task;
    }

    private void Run()
    {
        var ready = new List<TaskCompletionSource>();
        while (true)
        {
            bool idle;
            lock (_sync)
            {
                // Every delay is 1 ms, so the queue is in due order.
                var now = Stopwatch.GetTimestamp();
                while (_pending.TryPeek(out var head) && head.Due <= now)
                {
                    ready.Add(_pending.Dequeue().Done);
                }

                idle = _pending.Count == 0;
            }

            foreach (var done in ready)
            {
                done.TrySetResult();
            }

            ready.Clear();
            if (idle)
            {
                _wake.WaitOne();
            }
            else
            {
                Thread.Sleep(1);
            }
        }
    }
}
