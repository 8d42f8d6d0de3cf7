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
        var first = await Task.WhenAll(keys.Select(key => dedup.EnqueueAsync(new Job(key, "1")).AsTask())).Within();
        Assert.All(first, o => Assert.Equal(JobRole.Leader, o.Role));

        // The removal and the next claim travel on different pooled connections; Forget must order them.
        var replayed = new List<string>();
        foreach (var key in keys)
        {
            dedup.Forget(key);
            var next = await dedup.EnqueueAsync(new Job(key, "2")).Within();
            if (next.Role == JobRole.Replayed)
            {
                replayed.Add($"{key} = {next.Value}");
            }
        }

        Assert.True(replayed.Count == 0, $"{replayed.Count} of {Keys} keys replayed the forgotten outcome after Forget returned: {string.Join(", ", replayed)}.");
        Assert.All(keys, key => Assert.Equal(2, runs[key]));
    }
}
