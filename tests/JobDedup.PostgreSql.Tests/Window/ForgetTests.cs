using System.Collections.Concurrent;
using JobDedup.PostgreSql.Tests.Support;
using JobDedup.Testing.Contracts;

namespace JobDedup.PostgreSql.Tests.Window;

/// <summary>Forget on the durable store: an arrival after Forget returned never sees the forgotten outcome.</summary>
public sealed class ForgetTests(PostgreSqlDatabase database) : IClassFixture<PostgreSqlDatabase>
{
    [Fact]
    public async Task Forget_ThenEnqueueAsync_NeverReplaysTheForgottenOutcome()
    {
        const int Keys = 300;
        await using var schema = database.NewSchema();
        await using var store = schema.Store();
        var runs = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await using var dedup = Dedup.Create(
            store,
            (job, _, _) => ValueTask.FromResult($"{job.Key} run {runs.AddOrUpdate(job.Key, 1, static (_, n) => n + 1)}"));
        var keys = Enumerable.Range(0, Keys).Select(i => $"order-{i}").ToArray();
        // The first runs go in batches: 300 claims at once would open more connections than the server allows.
        var first = new List<JobOutcome<string>>();
        foreach (var batch in keys.Chunk(50))
        {
            first.AddRange(await Task.WhenAll(batch.Select(key => dedup.EnqueueAsync(new Job(key, "1")).AsTask())).Within());
        }

        Assert.All(first, o => Assert.True(o.Role == JobRole.Leader && o.IsSucceeded, $"The first run did not succeed: {o} {o.Exception?.Message}"));

        // The removal and the next claim travel on different pooled connections; Forget must order them.
        var replayed = new List<string>();
        foreach (var key in keys)
        {
            dedup.Forget(key);
            var next = await dedup.EnqueueAsync(new Job(key, "2")).Within();
            if (next.Role != JobRole.Leader || next.Value != $"{key} run 2")
            {
                replayed.Add($"{key}: {next}");
            }
        }

        Assert.True(replayed.Count == 0, $"{replayed.Count} of {Keys} keys did not run again after Forget returned: {string.Join(", ", replayed)}.");
        Assert.All(keys, key => Assert.Equal(2, runs[key]));
    }
}
