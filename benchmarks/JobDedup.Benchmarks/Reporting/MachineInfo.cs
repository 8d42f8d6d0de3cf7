using System.Diagnostics;
using System.Runtime;
using System.Runtime.InteropServices;

namespace JobDedup.Benchmarks.Reporting;

/// <summary>The machine as the report describes it, read when the report is written.</summary>
public sealed record MachineInfo(string Nproc, string Lscpu, string DotnetVersion, string Runtime, string Os, string Gc, string BenchmarkDotNet)
{
    public static MachineInfo Read() => new(
        Run("nproc", string.Empty),
        string.Join('\n', Run("lscpu", string.Empty).Split('\n').Take(10)),
        Run("dotnet", "--version"),
        RuntimeInformation.FrameworkDescription,
        RuntimeInformation.OSDescription + " " + RuntimeInformation.OSArchitecture,
        (GCSettings.IsServerGC ? "server" : "workstation") + ", " + GCSettings.LatencyMode,
        typeof(BenchmarkDotNet.Running.BenchmarkRunner).Assembly.GetName().Version?.ToString(3) ?? "unknown");

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

    private static string Run(string command, string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(command, arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return output.TrimEnd();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"({command} not available: {ex.Message})";
        }
    }
}
