using System.Diagnostics;

namespace JobDedup.Worker.Tests.Support;

/// <summary>The <c>jobdedup</c> tool as users run it: the worker's own build, a command line, environment variables and a terminal's input.</summary>
public static class ToolProcess
{
    /// <summary>Runs the tool to its end and returns its exit code and what it printed.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(IReadOnlyList<string> args, string input = "", string? broker = null)
    {
        var worker = WorkerProcess.WorkerDll();
        var start = new ProcessStartInfo("dotnet", [worker, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["JobDedup__RabbitMq__Uri"] = broker ?? Broker.Uri;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        await process.WaitForExitAsync().Within();
        return (process.ExitCode, await output, await error);
    }
}
