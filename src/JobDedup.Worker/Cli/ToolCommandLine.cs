using System.CommandLine;
using System.CommandLine.Help;

namespace JobDedup.Worker.Cli;

/// <summary>
/// The <c>jobdedup</c> command: with no subcommand, or <c>run</c>, it runs the worker (every other argument goes to the
/// host, as configuration overrides); <c>dead-letters …</c> and the help and version options go to the tool.
/// </summary>
internal static class ToolCommandLine
{
    /// <summary>The name help and usage show: the tool's command, whether it runs as <c>jobdedup</c> or as <c>dotnet JobDedup.Worker.dll</c>.</summary>
    public const string CommandName = "jobdedup";

    private const string RunCommand = "run";

    /// <summary>Tells whether the arguments are a tool command rather than a run of the worker.</summary>
    public static bool IsToolCommand(string[] args) =>
        args is ["dead-letters", ..] or ["--help" or "-h" or "-?" or "--version"] or [RunCommand, "--help" or "-h" or "-?"];

    /// <summary>The arguments the worker's host gets: those after <c>run</c>, or all of them.</summary>
    public static string[] WorkerArguments(string[] args) => args is [RunCommand, .. var rest] ? rest : args;

    /// <summary>Runs a tool command and returns its exit code.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, TextReader input, CancellationToken cancellationToken = default)
    {
        var run = new Command(RunCommand, "Run the worker (the default): appsettings.json and JobDedup__… environment variables configure it; further arguments override settings, e.g. --JobDedup:ShutdownTimeout=00:00:10.");
        // A RootCommand takes the executable's name (JobDedup.Worker under dotnet): a plain command keeps the tool's own,
        // with the help and version options a RootCommand would add.
        var root = new Command(CommandName, "JobDedup: the worker that runs each key once, and tools for its dead letters.")
        {
            new HelpOption(),
            new VersionOption(),
            run,
            new DeadLetterCommands(input, TimeProvider.System).Build(),
        };
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
    }
}
