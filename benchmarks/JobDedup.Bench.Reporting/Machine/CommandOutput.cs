using System.ComponentModel;
using System.Diagnostics;

namespace JobDedup.Bench.Reporting.Machine;

/// <summary>Runs a short command (nproc, lscpu, git …) and returns what it printed, so that a page can quote it.</summary>
public static class CommandOutput
{
    /// <summary>Longest a command may take before its output is given up on.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs <paramref name="command"/> with <paramref name="arguments"/>.</summary>
    /// <returns>Its standard output, trimmed; "not available" when it cannot be started or does not finish in time.</returns>
    public static async Task<string> RunAsync(string command, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        try
        {
            var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException(command);
            using var timeout = new CancellationTokenSource(Timeout);
            var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
            _ = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            var text = (await output.ConfigureAwait(false)).Trim();
            return process.ExitCode == 0 ? text : "not available";
        }
        catch (Win32Exception)
        {
            return "not available";
        }
        catch (OperationCanceledException)
        {
            return "not available";
        }
    }
}
