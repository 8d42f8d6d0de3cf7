using JobDedup.Worker;
using JobDedup.Worker.Cli;
using JobDedup.Worker.Pipelines;
using JobDedup.Worker.Settings;
using Microsoft.Extensions.Hosting;

// The JobDedup worker: RabbitMQ queues in, one handler run per key, configured by appsettings.json and
// environment variables (JobDedup__Pipelines__payments__Queue=payments), with an HTTP face on 127.0.0.1:8089 (health
// probes, Prometheus metrics, a live dashboard). SIGTERM or Ctrl+C stops it gracefully.
// `jobdedup dead-letters …` (and --help) is the tool, in Cli/; `jobdedup` or `jobdedup run` runs the worker.
if (ToolCommandLine.IsToolCommand(args))
{
    return await ToolCommandLine.RunAsync(args, Console.Out, Console.Error, Console.In);
}

args = ToolCommandLine.WorkerArguments(args);

// appsettings.json is read from beside the worker, whatever the current folder, unless a content root is given.
var contentRootGiven = args.Any(static a => a.StartsWith("--contentRoot", StringComparison.OrdinalIgnoreCase))
    || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_CONTENTROOT"));
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args,
    ContentRootPath = contentRootGiven ? null : AppContext.BaseDirectory,
});

var unreadable = WorkerPipelines.CheckReadable(builder.Configuration);
if (unreadable.Count > 0)
{
    await Console.Error.WriteLineAsync("JobDedup worker cannot start; these settings cannot be read:");
    foreach (var problem in unreadable)
    {
        await Console.Error.WriteLineAsync($"  - {problem}");
    }

    return 2;
}

WorkerSettings settings;
try
{
    settings = WorkerPipelines.Read(builder.Configuration);
}
catch (InvalidOperationException ex)
{
    // The binder wraps the useful part (which key, which value) in the inner exceptions.
    var reason = ex;
    while (reason.InnerException is InvalidOperationException inner)
    {
        reason = inner;
    }

    await Console.Error.WriteLineAsync($"JobDedup worker cannot start: a setting could not be read. {reason.Message}");
    return 2;
}

var problems = WorkerPipelines.Validate(settings);
if (problems.Count > 0)
{
    await Console.Error.WriteLineAsync("JobDedup worker cannot start; fix these settings:");
    foreach (var problem in problems)
    {
        await Console.Error.WriteLineAsync($"  - {problem}");
    }

    return 2;
}

WorkerHost.Configure(builder, settings);

using var host = builder.Build();
try
{
    await host.RunAsync();
    return 0;
}
catch (Exception ex) when (ex is InvalidOperationException or Microsoft.Extensions.Options.OptionsValidationException)
{
    // A broker that cannot be reached, or queues that exist with other settings: say so plainly and stop.
    await Console.Error.WriteLineAsync($"JobDedup worker stopped: {ex.Message}");
    if (WorkerPipelines.IsCredentialsRefused(ex))
    {
        await Console.Error.WriteLineAsync("  The worker connects with the user name and password of JobDedup:RabbitMq:Uri (JobDedup__RabbitMq__Uri).");
    }

    return 1;
}
