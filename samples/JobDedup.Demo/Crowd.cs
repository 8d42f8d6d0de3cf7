using System.Diagnostics;

namespace JobDedup.Demo;

/// <summary>Starts many callers at once, the way a burst of requests hits a service, and times each of them.</summary>
internal static class Crowd
{
    public static async Task<CrowdResult> RunAsync(int callers, Func<int, Task> call)
    {
        var started = Stopwatch.GetTimestamp();
        var calls = new Task<TimeSpan>[callers];
        for (var i = 0; i < callers; i++)
        {
            calls[i] = TimeAsync(call, i);
        }

        var latencies = await Task.WhenAll(calls);
        return new CrowdResult(Stopwatch.GetElapsedTime(started), latencies);
    }

    private static async Task<TimeSpan> TimeAsync(Func<int, Task> call, int caller)
    {
        var started = Stopwatch.GetTimestamp();
        await call(caller);
        return Stopwatch.GetElapsedTime(started);
    }
}
