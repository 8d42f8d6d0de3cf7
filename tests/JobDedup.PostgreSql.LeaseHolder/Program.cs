// Usage: JobDedup.PostgreSql.LeaseHolder <connection string> <schema> <table> <scope> <key> <lease seconds>
// Claims <key> through a deduplicator whose handler never returns, prints "running <fencing token>", and waits to be
// killed. While it lives, the deduplicator renews the claim every third of the lease; once it is killed, it stops.
using System.Globalization;
using JobDedup;
using JobDedup.Testing;

if (args.Length != 6)
{
    Console.Error.WriteLine("usage: JobDedup.PostgreSql.LeaseHolder <connection string> <schema> <table> <scope> <key> <lease seconds>");
    return 2;
}

var (connectionString, schema, table, scope, key) = (args[0], args[1], args[2], args[3], args[4]);
var lease = TimeSpan.FromSeconds(double.Parse(args[5], CultureInfo.InvariantCulture));

await using var store = new PostgreSqlOutcomeStore<string>(new PostgreSqlOutcomeStoreOptions
{
    ConnectionString = connectionString,
    Schema = schema,
    Table = table,
    CleanupInterval = TimeSpan.Zero,
});
var claims = new ScriptableOutcomeStore<string>(store); // passes every call through and remembers the granted token
await using var deduplicator = new JobDeduplicator<string, string>(
    async (job, context, cancellationToken) =>
    {
        Console.WriteLine($"running {claims.LastGrantedToken}");
        await Task.Delay(Timeout.Infinite, CancellationToken.None);
        return "never";
    },
    new JobDedupOptions<string>
    {
        Name = scope,
        DedupeWindow = TimeSpan.FromHours(1),
        ClaimLease = lease,
        MaxRetryAttempts = 0,
    },
    outcomeStore: claims);

var outcome = deduplicator.EnqueueAsync(key, "held by the lease holder").AsTask();
var ended = await Task.WhenAny(outcome, Task.Delay(TimeSpan.FromMinutes(5)));
Console.WriteLine(ended == outcome ? $"ended {outcome.Result.Status}" : "not killed within 5 minutes");
return 1;
