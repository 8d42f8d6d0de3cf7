// scripts/bench.sh cache runs this tool: JobDedup's SharedCache against naive cache-aside, HybridCache and FusionCache
// on one Redis. Usage:
//   JobDedup.CacheBench --redis <host:port> --output <folder> [--command <text>]
//   JobDedup.CacheBench child <contender> <redis> <namespace> <callers> <query ms> <counter key>   (one of the processes)
using System.Globalization;
using JobDedup.CacheBench.Reporting;
using JobDedup.CacheBench.Scenarios;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
if (args.Length > 0 && args[0] == "child")
{
    return await FourProcesses.ChildAsync(args);
}

var redis = Option("--redis") ?? "127.0.0.1:6379";
var output = Option("--output") ?? "docs/benchmarks";
var command = Option("--command") ?? "scripts/bench.sh cache";
var query = TimeSpan.FromMilliseconds(50);

Console.WriteLine("1/4 seed demo: 500 concurrent requests on a cold key, 50 ms query, one process");
var cold = new List<ColdKeyResult>();
foreach (var contender in new[] { "naive", "jobdedup" })
{
    var result = await ColdKey.RunAsync(contender, redis, 500, query);
    Console.WriteLine($"  {result.Contender}: {result.DatabaseHits} database hits, {result.Took.TotalMilliseconds:F0} ms");
    cold.Add(result);
}

Console.WriteLine("2/4 four processes x 125 concurrent requests on a cold key, 50 ms query");
var processes = new List<ProcessesResult>();
foreach (var contender in JobDedup.CacheBench.Contenders.Contenders.Peers)
{
    var result = await FourProcesses.RunAsync(contender, redis, 4, 125, query);
    Console.WriteLine($"  {contender}: {result.DatabaseHits} database hits, {result.Took.TotalMilliseconds:F0} ms");
    processes.Add(result);
}

Console.WriteLine("3/4 hot key across its expiry: 16 clients, TTL 3 s, 50 ms query, 13 s each");
var hot = new List<HotKeyResult>();
foreach (var contender in JobDedup.CacheBench.Contenders.Contenders.Peers)
{
    var result = await HotKey.RunAsync(contender, redis, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(13), 16, query);
    Console.WriteLine($"  {result.Contender}: steady p99 {result.SteadyP99:F3} p99.9 {result.SteadyP999:F3} ms; around refreshes p99 {result.AroundP99:F3} p99.9 {result.AroundP999:F3} max {result.AroundMax:F1} ms; {result.SlowRequests} over 10 ms ({result.Refreshes} refreshes)");
    hot.Add(result);
}

Console.WriteLine("4/4 warm key: 8 concurrent loops, 3 s each");
var warm = new List<WarmKeyResult>();
foreach (var contender in new[] { "jobdedup", "jobdedup-redis-only", "hybrid", "fusion" })
{
    var result = await WarmKey.RunAsync(contender, redis, TimeSpan.FromSeconds(3), 8);
    Console.WriteLine($"  {result.Contender}: {result.HitsPerSecond:N0} hits/s, {result.RedisCommandsPerRequest:F3} Redis commands per request");
    warm.Add(result);
}

var report = new CacheReport(cold, processes, hot, warm, command);
Directory.CreateDirectory(output);
await File.WriteAllTextAsync(Path.Combine(output, "cache.md"), report.Markdown());
await File.WriteAllTextAsync(Path.Combine(output, "cache.svg"), report.Svg());
Console.WriteLine($"wrote {Path.Combine(output, "cache.md")} and cache.svg");
return 0;

string? Option(string name) => JobDedup.Bench.Reporting.Text.CommandLine.Option(args, name);
