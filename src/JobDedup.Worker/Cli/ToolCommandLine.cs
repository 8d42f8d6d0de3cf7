using System.CommandLine;

namespace JobDedup.Worker.Cli;

/// <summary>
/// The <c>jobdedup</c> command: with no subcommand, or <c>run</c>, it runs the worker (every other argument goes to the
/// host, as configuration overrides); <c>dead-letters …</c> and the help and version options go to the tool.
/// </summary>
internal static class ToolCommandLine
{
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
        var root = new RootCommand("JobDedup: the worker that runs each key once, and tools for its dead letters.")
        {
            run,
            new DeadLetterCommands(input, TimeProvider.System).Build(),
        };
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
    }
}
