namespace JobDedup.LoadTest;

/// <summary>One run: an endpoint under one load shape, with every request's sample and what the server counted.</summary>
internal sealed class RunResult
{
    public RunResult(string endpoint, LoadShape shape, IReadOnlyList<RequestSample> samples, double durationSeconds, ServerCounters server)
    {
        Endpoint = endpoint;
        Shape = shape;
        Samples = samples;
        DurationSeconds = durationSeconds;
        Server = server;
        Latencies = [.. samples.Where(s => s.Succeeded).Select(s => s.LatencySeconds).Order()];
    }

    public string Endpoint { get; }

    public LoadShape Shape { get; }

    public IReadOnlyList<RequestSample> Samples { get; }

    /// <summary>Gets the successful requests' latencies in seconds, sorted.</summary>
    public IReadOnlyList<double> Latencies { get; }

    /// <summary>Gets the wall time from the first request sent to the last answer.</summary>
    public double DurationSeconds { get; }

    public ServerCounters Server { get; }

    public int Total => Samples.Count;

    public int Successful => Latencies.Count;

    public int Failed => Total - Successful;

    public double RequestsPerSecond => Total / DurationSeconds;

    public double Min => Latencies.Count == 0 ? double.NaN : Latencies[0];

    public double Max => Latencies.Count == 0 ? double.NaN : Latencies[^1];

    public double Average => Latencies.Count == 0 ? double.NaN : Latencies.Average();

    /// <summary>Nearest-rank percentile of the successful requests' latencies.</summary>
    public double Percentile(double percent)
    {
        if (Latencies.Count == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(percent / 100 * Latencies.Count);
        return Latencies[Math.Clamp(rank, 1, Latencies.Count) - 1];
    }

    /// <summary>Counts failures by reason, most frequent first.</summary>
    public IEnumerable<(string Reason, int Count)> FailureReasons() =>
        Samples.Where(s => !s.Succeeded)
            .GroupBy(s => s.Failure ?? "unknown")
            .Select(g => (g.Key, g.Count()))
            .OrderByDescending(g => g.Item2);
}
