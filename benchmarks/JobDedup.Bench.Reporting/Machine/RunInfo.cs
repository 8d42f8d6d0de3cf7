namespace JobDedup.Bench.Reporting.Machine;

/// <summary>Where, when, from which code and by which command a benchmark run was made: what every page records.</summary>
/// <param name="Tool">The benchmark project that wrote the page, e.g. <c>benchmarks/JobDedup.Benchmarks</c>.</param>
/// <param name="Started">When the run started.</param>
/// <param name="Finished">When the run finished.</param>
/// <param name="Command">The command a reader types to run it again (usually a script).</param>
/// <param name="Invocation">How the program itself was started, arguments included.</param>
/// <param name="Machine">The machine.</param>
/// <param name="Revision">The commit of the measured code.</param>
/// <param name="LoadAtStart">Load averages when the run started.</param>
/// <param name="LoadAtEnd">Load averages when it ended.</param>
public sealed record RunInfo(
    string Tool,
    DateTimeOffset Started,
    DateTimeOffset Finished,
    string Command,
    string Invocation,
    MachineInfo Machine,
    SourceRevision Revision,
    string LoadAtStart,
    string LoadAtEnd)
{
    /// <summary>Gets how long the run took.</summary>
    public TimeSpan Duration => Finished - Started;

    /// <summary>Starts recording a run: reads the machine, the commit and the load now; <see cref="RunStart.Finish"/> completes it.</summary>
    public static async Task<RunStart> StartAsync(string tool, string command, string invocation)
    {
        var started = DateTimeOffset.UtcNow;
        var load = MachineInfo.LoadAverage();
        var machine = await MachineInfo.ReadAsync().ConfigureAwait(false);
        var revision = await SourceRevision.ReadAsync().ConfigureAwait(false);
        return new RunStart(new RunInfo(tool, started, started, command, invocation, machine, revision, load, load));
    }

    /// <summary>The command line of this process as typed from the working directory: <c>dotnet path/to/tool.dll args</c>.</summary>
    /// <param name="entryAssembly">The tool's assembly.</param>
    /// <param name="args">Its arguments, less any that should not be shown.</param>
    public static string InvocationOf(System.Reflection.Assembly entryAssembly, IEnumerable<string> args)
    {
        ArgumentNullException.ThrowIfNull(entryAssembly);
        var program = Path.GetRelativePath(Directory.GetCurrentDirectory(), entryAssembly.Location);
        return string.Join(' ', new[] { "dotnet", program }.Concat(args).Select(a => a.Length == 0 || a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));
    }
}
