using JobDedup.Worker.Settings;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace JobDedup.Worker.Http.Stats;

/// <summary>
/// Samples every pipeline once a second into a bounded ring (the dashboard's history): the deduplicator's counters,
/// a snapshot of its flights, and the handler durations and dead letters the meter tap counted.
/// </summary>
internal sealed class StatsSampler : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly IReadOnlyList<SampledPipeline> _pipelines;
    private readonly EngineMeterTap _tap;
    private readonly int _hottest;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public StatsSampler(IReadOnlyList<SampledPipeline> pipelines, EngineMeterTap tap, HttpSettings settings, TimeProvider time, ILogger<StatsSampler> logger)
    {
        _pipelines = pipelines;
        _tap = tap;
        _hottest = settings.ShowKeys ? settings.HottestKeys : 0;
        _time = time;
        _logger = logger;
    }

    /// <summary>Gets the number of samples kept per pipeline.</summary>
    public static int Capacity(HttpSettings settings) => (int)Math.Clamp(settings.History / Interval, 1, 24 * 3600);

    /// <summary>Returns every pipeline's state at the last sample, with its history.</summary>
    public IReadOnlyList<PipelineNow> Read() =>
        [.. _pipelines.Select(p => p.Latest is { } latest ? latest with { Samples = p.Samples.ToArray() } : Empty(p))];

    /// <summary>Takes one sample of every pipeline.</summary>
    internal void SampleOnce()
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var pipeline in _pipelines)
        {
            Sample(pipeline, now);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    SampleOnce();
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // The dashboard misses a second; the worker goes on.
                    Log.SampleFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private static PipelineNow Empty(SampledPipeline pipeline) =>
        new(pipeline.Name, pipeline.Queue, default, 0, 0, 0, new Dictionary<string, long>(), null, []);

    private static long Delta(long now, long before) => now >= before ? now - before : now; // counters reset: count from zero

    private void Sample(SampledPipeline pipeline, long now)
    {
        var stats = pipeline.Deduplicator.GetStats();
        var flights = pipeline.Deduplicator.GetInFlight(_hottest);
        var latency = _tap.TakeLatency(pipeline.Name);
        var deadLetters = _tap.DeadLetters(pipeline.Name);
        var deadLetterTotal = deadLetters.Values.Sum();

        var before = pipeline.Previous;
        var hits = Delta(stats.Hits, before.Hits);
        var misses = Delta(stats.Misses, before.Misses);
        pipeline.Samples.Add(new PipelineSample(
            now,
            hits + misses,
            hits + misses == 0 ? null : (double)hits / (hits + misses),
            flights.Count,
            stats.Queued,
            Delta(stats.Retries, before.Retries),
            Delta(stats.Errors, before.Errors),
            Delta(deadLetterTotal, pipeline.PreviousDeadLetters),
            latency.Attempts,
            latency.P50,
            latency.P95,
            latency.Max,
            flights.OldestAge.TotalSeconds));
        pipeline.Previous = stats;
        pipeline.PreviousDeadLetters = deadLetterTotal;
        pipeline.Latest = new PipelineNow(
            pipeline.Name,
            pipeline.Queue,
            stats,
            flights.Count,
            stats.Queued,
            flights.OldestAge.TotalSeconds,
            deadLetters,
            _hottest > 0 ? [.. flights.Hottest.Select(k => new HotKey(k.Key, k.Callers, k.Age.TotalSeconds))] : null,
            []);
    }
}
