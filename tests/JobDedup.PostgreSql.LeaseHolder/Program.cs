// Usage: JobDedup.PostgreSql.LeaseHolder <connection string> <schema> <table> <scope> <key> <lease seconds> [<keys>]
// Claims <key> (or, given <keys>, the keys <key>-1 … <key>-<keys>) through a deduplicator whose handler never returns,
// prints "running <fencing token>" for each, then "holding <keys>", and waits to be killed. While it lives, the
// deduplicator renews the claims and its store holds its instance lock; once it is killed, both end.
using System.Globalization;
using JobDedup;
using JobDedup.Testing;

if (args.Length is not (6 or 7))
{
    Console.Error.WriteLine("usage: JobDedup.PostgreSql.LeaseHolder <connection string> <schema> <table> <scope> <key> <lease seconds> [<keys>]");
    return 2;
}

var (connectionString, schema, table, scope, key) = (args[0], args[1], args[2], args[3], args[4]);
var lease = TimeSpan.FromSeconds(double.Parse(args[5], CultureInfo.InvariantCulture));
var keys = args.Length == 7
    ? Enumerable.Range(1, int.Parse(args[6], CultureInfo.InvariantCulture)).Select(i => $"{key}-{i}").ToArray()
    : [key];

await using var store = new PostgreSqlOutcomeStore<string>(new PostgreSqlOutcomeStoreOptions
{
    ConnectionString = connectionString,
    Schema = schema,
    Table = table,
    CleanupInterval = TimeSpan.Zero,
});
var claims = new ScriptableOutcomeStore<string>(store); // passes every call through and remembers the granted token
var running = 0;
var allRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
await using var deduplicator = new JobDeduplicator<string, string>(
    async (job, context, cancellationToken) =>
    {
        Console.WriteLine($"running {context.FencingToken}");
        if (Interlocked.Increment(ref running) == keys.Length)
        {
            allRunning.TrySetResult();
        }

        await Task.Delay(Timeout.Infinite, CancellationToken.None);
        return "never";
    },
    new JobDedupOptions<string>
    {
        Name = scope,
        DedupeWindow = TimeSpan.FromHours(1),
        ClaimLease = lease,
        MaxRetryAttempts = 0,
        MaxConcurrentHandlers = Math.Max(64, keys.Length),
    },
    outcomeStore: claims);

var outcomes = keys.Select(k => deduplicator.EnqueueAsync(k, "held by the lease holder").AsTask()).ToArray();
await allRunning.Task;
Console.WriteLine($"holding {keys.Length}");
var ended = await Task.WhenAny(Task.WhenAny(outcomes), Task.Delay(TimeSpan.FromMinutes(5)));
Console.WriteLine(ended is Task<Task<JobOutcome<string>>> first ? $"ended {first.Result.Result.Status}" : "not killed within 5 minutes");
return 1;
