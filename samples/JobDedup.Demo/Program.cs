using System.Diagnostics;
using JobDedup.Demo;
using JobDedup.Demo.Scenarios;

// Three ways duplicate work hurts a service, each run without and with JobDedup. Every number is measured on this run.
var total = Stopwatch.StartNew();
var output = Console.Out;
output.WriteLine("JobDedup demo: the same work asked for many times at once, without and with JobDedup");
output.WriteLine($"Machine: {Environment.ProcessorCount} cores, {Environment.Version} runtime. Times are measured with Stopwatch.");
output.WriteLine();

await DatabaseLoadScenario.RunAsync(output);
output.WriteLine();
await CacheStampedeScenario.RunAsync(output);
output.WriteLine();
await RateLimitScenario.RunAsync(output);
output.WriteLine();

output.WriteLine($"Demo finished in {Format.Seconds(total.Elapsed)}.");
