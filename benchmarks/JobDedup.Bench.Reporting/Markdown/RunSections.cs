using System.Text;
using JobDedup.Bench.Reporting.Machine;

namespace JobDedup.Bench.Reporting.Markdown;

/// <summary>The parts every benchmark page has: who wrote it from which run, the machine, the commit, the command.</summary>
public static class RunSections
{
    /// <summary>The italic line under the title: the tool, when the run finished, how long it took, on which commit.</summary>
    public static void AppendProvenance(StringBuilder md, RunInfo run)
    {
        ArgumentNullException.ThrowIfNull(md);
        ArgumentNullException.ThrowIfNull(run);
        md.Append(Format.Invariant(
            $"_Written by `{run.Tool}` from the run that started {run.Started:yyyy-MM-dd HH:mm} UTC and took {run.Duration.TotalMinutes:0.0} min, on commit `{run.Revision.ShortCommit}`. Do not edit: run the command below again._\n\n"));
    }

    /// <summary>A "## Machine" section: nproc, lscpu and the SDK as the commands print them, then the runtime, the load and any other lines.</summary>
    /// <param name="md">The page being written.</param>
    /// <param name="run">The run.</param>
    /// <param name="more">Further facts about where it ran (a broker's version, a database's), one sentence each.</param>
    public static void AppendMachine(StringBuilder md, RunInfo run, params string[] more)
    {
        ArgumentNullException.ThrowIfNull(md);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(more);
        var m = run.Machine;
        md.Append("## Machine\n\n");
        md.Append("```text\n");
        md.Append("$ nproc\n").Append(m.Nproc).Append('\n');
        md.Append(Format.Invariant($"$ lscpu | head -n {MachineInfo.LscpuLines}\n")).Append(m.Lscpu).Append('\n');
        md.Append("$ dotnet --version\n").Append(m.DotnetSdk).Append('\n');
        md.Append("```\n\n");
        md.Append(Format.Invariant($"Runtime {m.Runtime} on {m.Os}, {m.Memory} of memory; GC {m.Gc}. Load average (1, 5, 15 min) when the run started: {run.LoadAtStart}; when it ended: {run.LoadAtEnd} (above {m.Nproc} means other processes were competing for the cores)."));
        foreach (var line in more)
        {
            md.Append(' ').Append(line);
        }

        md.Append("\n\n");
        md.Append("Code measured: commit ").Append(run.Revision.Describe()).Append(".\n\n");
    }

    /// <summary>A "## Command" section: what to type to run it again and, when it differs, how the program itself was started.</summary>
    public static void AppendCommand(StringBuilder md, RunInfo run)
    {
        ArgumentNullException.ThrowIfNull(md);
        ArgumentNullException.ThrowIfNull(run);
        md.Append("## Command\n\n```sh\n").Append(run.Command).Append("\n```\n\n");
        if (run.Command != run.Invocation)
        {
            md.Append("which built the program in Release and ran:\n\n```sh\n").Append(run.Invocation).Append("\n```\n\n");
        }
    }
}
