using System.Diagnostics.Metrics;
using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Telemetry;

public sealed class TelemetryTests
{
    [Fact]
    public async Task Metrics_CountJobsByRoleAndFlightsByStatus_NeverTaggingTheKey()
    {
        var name = $"telemetry-{Guid.NewGuid():N}";
        var measurements = new List<(string Instrument, long Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == JobDedupTelemetry.Name)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var map = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                map[tag.Key] = tag.Value;
            }

            if (Equals(map.GetValueOrDefault(JobDedupTelemetry.DeduplicatorTag), name))
            {
                lock (measurements)
                {
                    measurements.Add((instrument.Name, value, map));
                }
            }
        });
        listener.Start();

        var gate = new Gate();
        await using (var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return "v";
            },
            o => o.Name = name))
        {
            var calls = Enumerable.Range(0, 3).Select(_ => dedup.EnqueueAsync(new Job("secret-key-1", "x")).AsTask()).ToArray();
            await Watchdog.Until(() => dedup.GetStats().Hits == 2, "two joined");
            gate.Open();
            await Task.WhenAll(calls).Within();
        }

        List<(string Instrument, long Value, Dictionary<string, object?> Tags)> seen;
        lock (measurements)
        {
            seen = [.. measurements];
        }

        long Sum(string instrument, string tag, string value) =>
            seen.Where(m => m.Instrument == instrument && Equals(m.Tags.GetValueOrDefault(tag), value)).Sum(m => m.Value);

        Assert.Equal(1, Sum("jobdedup.jobs.enqueued", "jobdedup.role", "leader"));
        Assert.Equal(2, Sum("jobdedup.jobs.enqueued", "jobdedup.role", "joined"));
        Assert.Equal(1, Sum("jobdedup.flights.completed", "jobdedup.status", "succeeded"));
        Assert.DoesNotContain(seen, m => m.Tags.Values.Any(v => v is string s && s.Contains("secret-key", StringComparison.Ordinal)));
    }
}
