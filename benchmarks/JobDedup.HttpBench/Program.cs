// scripts/bench.sh http runs this tool: JobDedup's idempotency filter on Kestrel against the same endpoint without it,
// and against hand-written check-then-insert guards. Usage:
//   JobDedup.HttpBench [--output docs/benchmarks] [--command <text>] [--postgres <connection string>]
//                      [--rounds 3] [--seconds 3] [--concurrency 8] [--burst 100] [--bursts 5]
using System.Globalization;
using System.Reflection;
using JobDedup.Bench.Reporting.Machine;
using JobDedup.HttpBench;
using JobDedup.HttpBench.Reporting;
using JobDedup.HttpBench.Scenarios;
using JobDedup.HttpBench.Server;
using Npgsql;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

var recording = await RunInfo.StartAsync(
    "benchmarks/JobDedup.HttpBench",
    options.Command,
    RunInfo.InvocationOf(Assembly.GetEntryAssembly()!, args.Select(a => a.Contains("Password=", StringComparison.OrdinalIgnoreCase) ? "<connection string>" : a)));
var run = Guid.NewGuid().ToString("N")[..8];

// The guard's own pool, as a web app would size it; never more than 10 connections to the shared server.
await using var database = options.Postgres is null
    ? null
    : NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(options.Postgres) { MaxPoolSize = 10 }.ConnectionString);

await using var server = await BenchServer.StartAsync(database, $"httpbench_{run}");
using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
{
    BaseAddress = server.Address,
    Timeout = TimeSpan.FromSeconds(30),
};
Console.WriteLine($"bench http: server at {server.Address}, {options.Concurrency} loops, {options.Rounds} rounds of up to {options.RoundTime.TotalSeconds:0} s");

Console.WriteLine("1/2 (a) cheap endpoint without and with the filter, new keys; (b) replays of one stored key");
var throughput = await ThroughputScenario.RunAsync(client, server, options, run);

Console.WriteLine("(d) the cheap endpoint's request delegate in process, one thread, without and with the filter");
var inProcess = await InProcessScenario.RunAsync(server, run);
Console.WriteLine($"2/2 (c) {options.Bursts} bursts of {options.BurstSize} concurrent same-key POSTs");
var bursts = new List<BurstResult>
{
    await BurstScenario.RunAsync(client, server, options, run, "filter (in-memory store)", FilteredEndpoints.ChargePath),
    await BurstScenario.RunAsync(client, server, options, run, "guard: check a dictionary, then insert", "/guard/memory/charge"),
};
if (database is not null)
{
    bursts.Add(await BurstScenario.RunAsync(client, server, options, run, "filter (PostgreSQL store)", FilteredEndpoints.PostgresChargePath));
    bursts.Add(await BurstScenario.RunAsync(client, server, options, run, "guard: SELECT, then INSERT (PostgreSQL)", "/guard/postgres/charge"));
}
else
{
    Console.WriteLine("  no --postgres given: the PostgreSQL guard is left out");
}

var report = new HttpReport(throughput, inProcess, bursts, options, recording.Finish());
report.WriteConsole(Console.Out);
Directory.CreateDirectory(options.Output);
var page = Path.Combine(options.Output, "http.md");
await File.WriteAllTextAsync(page, report.Markdown());
Console.WriteLine($"wrote {page}");
return 0;
