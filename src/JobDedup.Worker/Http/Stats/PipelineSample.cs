namespace JobDedup.Worker.Http.Stats;

/// <summary>One second of one pipeline, as the dashboard charts it.</summary>
/// <param name="Time">When the second ended, in Unix milliseconds.</param>
/// <param name="Throughput">Jobs answered in that second: handler runs plus duplicates answered by them.</param>
/// <param name="HitRate">The share of those jobs that did not run the handler, or null with no traffic.</param>
/// <param name="InFlight">Keys in flight at the end of the second.</param>
/// <param name="Queued">Jobs waiting for the dispatcher at the end of the second.</param>
/// <param name="Retries">Handler attempts retried in that second.</param>
/// <param name="Errors">Flights that failed in that second.</param>
/// <param name="DeadLetters">Messages dead-lettered in that second.</param>
/// <param name="Attempts">Handler attempts that ended in that second.</param>
/// <param name="LatencyP50">The median handler attempt, in milliseconds (0 with no attempt).</param>
/// <param name="LatencyP95">The 95th percentile handler attempt, in milliseconds.</param>
/// <param name="LatencyMax">The longest handler attempt, in milliseconds.</param>
/// <param name="OldestInFlight">The age of the oldest key in flight, in seconds.</param>
internal sealed record PipelineSample(
    long Time,
    long Throughput,
    double? HitRate,
    int InFlight,
    int Queued,
    long Retries,
    long Errors,
    long DeadLetters,
    long Attempts,
    double LatencyP50,
    double LatencyP95,
    double LatencyMax,
    double OldestInFlight);
