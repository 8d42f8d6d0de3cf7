using System.Diagnostics;
using System.Net;

namespace JobDedup.HttpBench.Load;

/// <summary>
/// Sends requests from a fixed number of concurrent loops, each waiting for its answer before sending the next, until
/// either the request count or the time limit is reached, and times every request.
/// </summary>
internal static class LoadLoop
{
    /// <summary>Runs the loop.</summary>
    /// <param name="client">The client; its handler must allow at least <paramref name="concurrency"/> connections.</param>
    /// <param name="request">Builds request number i (0-based, unique across loops).</param>
    /// <param name="expected">The status every answer should have; any other counts as a failure.</param>
    /// <param name="concurrency">How many loops send at once.</param>
    /// <param name="maxRequests">The most requests sent in all.</param>
    /// <param name="maxTime">The longest the loop runs; no request starts after it.</param>
    public static async Task<LoadResult> RunAsync(
        HttpClient client,
        Func<int, HttpRequestMessage> request,
        HttpStatusCode expected,
        int concurrency,
        int maxRequests,
        TimeSpan maxTime)
    {
        var next = -1;
        var failures = 0;
        var started = Stopwatch.GetTimestamp();
        var perLoop = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            var latencies = new List<double>();
            var statuses = new Dictionary<int, int>();
            int i;
            while ((i = Interlocked.Increment(ref next)) < maxRequests && Stopwatch.GetElapsedTime(started) < maxTime)
            {
                using var message = request(i);
                var start = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await client.SendAsync(message, HttpCompletionOption.ResponseContentRead);
                    latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    statuses[(int)response.StatusCode] = statuses.GetValueOrDefault((int)response.StatusCode) + 1;
                    if (response.StatusCode != expected)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }
            }

            return (latencies, statuses);
        }));
        var elapsed = Stopwatch.GetElapsedTime(started);
        var all = perLoop.SelectMany(l => l.latencies).Order().ToArray();
        var byStatus = perLoop.SelectMany(l => l.statuses).GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Sum(s => s.Value));
        return new LoadResult(all.Length, failures, elapsed, all, byStatus);
    }

    /// <summary>
    /// Sends <paramref name="count"/> requests at the same instant (each built ahead and released together) and times
    /// each: the burst of one key that a client retrying too eagerly, or a provider's redelivery, produces.
    /// </summary>
    /// <param name="client">The client; its handler must allow at least <paramref name="count"/> connections, opened beforehand.</param>
    /// <param name="request">Builds request number i.</param>
    /// <param name="expected">The status every answer should have; any other counts as a failure.</param>
    /// <param name="count">How many requests.</param>
    /// <param name="bodies">Receives every answer's body.</param>
    public static async Task<LoadResult> BurstAsync(HttpClient client, Func<int, HttpRequestMessage> request, HttpStatusCode expected, int count, ICollection<string> bodies)
    {
        var messages = Enumerable.Range(0, count).Select(request).ToArray();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var failures = 0;
        var statuses = new int[600];
        var sends = messages.Select(async message =>
        {
            await release.Task;
            var start = Stopwatch.GetTimestamp();
            try
            {
                using var response = await client.SendAsync(message, HttpCompletionOption.ResponseContentRead);
                var latency = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                var body = await response.Content.ReadAsStringAsync();
                lock (bodies)
                {
                    bodies.Add(body);
                }

                Interlocked.Increment(ref statuses[Math.Clamp((int)response.StatusCode, 0, 599)]);
                if (response.StatusCode != expected)
                {
                    Interlocked.Increment(ref failures);
                }

                return latency;
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref failures);
                return double.NaN;
            }
            finally
            {
                message.Dispose();
            }
        }).ToArray();
        var started = Stopwatch.GetTimestamp();
        release.SetResult();
        var latencies = await Task.WhenAll(sends);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var byStatus = statuses.Select((n, code) => (n, code)).Where(s => s.n > 0).ToDictionary(s => s.code, s => s.n);
        return new LoadResult(latencies.Count(l => !double.IsNaN(l)), failures, elapsed, [.. latencies.Where(l => !double.IsNaN(l)).Order()], byStatus);
    }
}
