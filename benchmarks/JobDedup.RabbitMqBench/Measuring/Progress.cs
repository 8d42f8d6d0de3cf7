using System.Diagnostics;
using System.Globalization;

namespace JobDedup.RabbitMqBench.Measuring;

/// <summary>Prints a line a second while a phase runs, so a long run shows it is alive and how fast it goes.</summary>
internal sealed class Progress(TextWriter output, TimeSpan interval)
{
    public IDisposable Start(string title, long total, Func<long> done, string verb)
    {
        output.WriteLine(title);
        return new Reporter(output, interval, total, done, verb);
    }

    private sealed class Reporter : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public Reporter(TextWriter output, TimeSpan interval, long total, Func<long> done, string verb)
        {
            _loop = LoopAsync(output, interval, total, done, verb, _stop.Token);
        }

        public void Dispose()
        {
            _stop.Cancel();
            try
            {
                _loop.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
                // The loop ends by cancellation.
            }

            _stop.Dispose();
        }

        private static async Task LoopAsync(TextWriter output, TimeSpan interval, long total, Func<long> done, string verb, CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            var last = 0L;
            var lastAt = started;
            using var timer = new PeriodicTimer(interval);

            // Bounded by the phase: the caller disposes the reporter when the phase ends or times out.
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = Stopwatch.GetTimestamp();
                var count = done();
                var rate = (count - last) / Stopwatch.GetElapsedTime(lastAt, now).TotalSeconds;
                output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"  {Stopwatch.GetElapsedTime(started, now).TotalSeconds,5:0} s  {count,11:N0} / {total:N0} {verb} ({100.0 * count / total,3:0}%)  {rate,9:N0} msg/s"));
                last = count;
                lastAt = now;
            }
        }
    }
}
