using System.Diagnostics;
using System.Runtime;
using System.Runtime.InteropServices;

namespace JobDedup.RabbitMqBench.Reporting;

/// <summary>What the machine says about itself, read by running the usual commands.</summary>
internal sealed record MachineInfo(string Nproc, string Lscpu, string DotnetVersion, string Runtime, string Os, string Gc)
{
    public string RabbitMq { get; init; } = "unknown";

    public string LoadBefore { get; init; } = "unknown";

    public string LoadAfter { get; init; } = "unknown";

    public static async Task<MachineInfo> ReadAsync()
    {
        var lscpu = await RunAsync("lscpu");
        var os = File.Exists("/etc/os-release")
            ? (await File.ReadAllLinesAsync("/etc/os-release")).FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?["PRETTY_NAME=".Length..].Trim('"') ?? "unknown"
            : RuntimeInformation.OSDescription;
        var gc = (GCSettings.IsServerGC ? "server" : "workstation") + ", " + GCSettings.LatencyMode;
        return new MachineInfo(
            await RunAsync("nproc"),
            string.Join('\n', lscpu.Split('\n').Take(12)),
            await RunAsync("dotnet", "--version"),
            RuntimeInformation.FrameworkDescription + " " + RuntimeInformation.ProcessArchitecture,
            os,
            gc);
    }

    /// <summary>The 1, 5 and 15 minute load averages, as /proc/loadavg gives them.</summary>
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

    private static async Task<string> RunAsync(string command, params string[] arguments)
    {
        try
        {
            var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException(command);
            var output = await process.StandardOutput.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(timeout.Token);
            return output.Trim();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "not available";
        }
    }
}
