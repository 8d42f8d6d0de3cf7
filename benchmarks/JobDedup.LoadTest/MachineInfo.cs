using System.Diagnostics;

namespace JobDedup.LoadTest;

/// <summary>What the machine says about itself, read by running the usual commands.</summary>
internal sealed record MachineInfo(string Nproc, string Cpu, string Memory, string Os, string Dotnet)
{
    public static async Task<MachineInfo> ReadAsync()
    {
        var lscpu = await RunAsync("lscpu");
        var cpu = lscpu.Split('\n').FirstOrDefault(l => l.StartsWith("Model name:", StringComparison.Ordinal))?["Model name:".Length..].Trim()
            ?? "unknown";
        var memory = (await RunAsync("free", "-h")).Split('\n').FirstOrDefault(l => l.StartsWith("Mem:", StringComparison.Ordinal))
            ?.Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) ?? "unknown";
        var os = File.Exists("/etc/os-release")
            ? (await File.ReadAllLinesAsync("/etc/os-release")).FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
                ?["PRETTY_NAME=".Length..].Trim('"') ?? "unknown"
            : Environment.OSVersion.ToString();
        return new MachineInfo(await RunAsync("nproc"), cpu, memory, os, await RunAsync("dotnet", "--version"));
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
            await process.WaitForExitAsync();
            return output.Trim();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "not available";
        }
    }
}
