using System.Runtime;
using System.Runtime.InteropServices;

namespace JobDedup.Bench.Reporting.Machine;

/// <summary>What the machine says about itself, read by running the usual commands when a run starts.</summary>
/// <param name="Nproc">What <c>nproc</c> printed.</param>
/// <param name="Lscpu">The first <see cref="LscpuLines"/> lines of <c>lscpu</c>.</param>
/// <param name="CpuModel">The model name line of <c>lscpu</c>.</param>
/// <param name="Memory">Total memory as <c>free -h</c> gives it.</param>
/// <param name="Os">The PRETTY_NAME of /etc/os-release.</param>
/// <param name="DotnetSdk">What <c>dotnet --version</c> printed.</param>
/// <param name="Runtime">The runtime this process runs on, with its architecture.</param>
/// <param name="Gc">The GC flavour and latency mode of this process.</param>
public sealed record MachineInfo(string Nproc, string Lscpu, string CpuModel, string Memory, string Os, string DotnetSdk, string Runtime, string Gc)
{
    /// <summary>How many lines of <c>lscpu</c> a page quotes.</summary>
    public const int LscpuLines = 12;

    /// <summary>Reads the machine's description.</summary>
    public static async Task<MachineInfo> ReadAsync()
    {
        var lscpu = await CommandOutput.RunAsync("lscpu").ConfigureAwait(false);
        var cpu = lscpu.Split('\n').FirstOrDefault(l => l.StartsWith("Model name:", StringComparison.Ordinal))?["Model name:".Length..].Trim() ?? "unknown";
        var memory = (await CommandOutput.RunAsync("free", "-h").ConfigureAwait(false)).Split('\n')
            .FirstOrDefault(l => l.StartsWith("Mem:", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) ?? "unknown";
        var os = File.Exists("/etc/os-release")
            ? (await File.ReadAllLinesAsync("/etc/os-release").ConfigureAwait(false)).FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?["PRETTY_NAME=".Length..].Trim('"') ?? "unknown"
            : RuntimeInformation.OSDescription;
        return new MachineInfo(
            await CommandOutput.RunAsync("nproc").ConfigureAwait(false),
            string.Join('\n', lscpu.Split('\n').Take(LscpuLines)),
            cpu,
            memory,
            os,
            await CommandOutput.RunAsync("dotnet", "--version").ConfigureAwait(false),
            RuntimeInformation.FrameworkDescription + " " + RuntimeInformation.ProcessArchitecture,
            (GCSettings.IsServerGC ? "server" : "workstation") + ", " + GCSettings.LatencyMode);
    }

    /// <summary>Reads the 1, 5 and 15 minute load averages, which say how busy the shared machine was.</summary>
    /// <returns>The three numbers as /proc/loadavg gives them, or "unknown".</returns>
    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
