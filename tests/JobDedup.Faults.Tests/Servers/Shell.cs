using System.Diagnostics;
using System.Text;

namespace JobDedup.Faults.Tests.Servers;

/// <summary>Runs a command to its end, with a time limit, and keeps what it printed.</summary>
internal static class Shell
{
    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>Runs a program; with <paramref name="asUser"/> and when running as root, as that user (runuser).</summary>
    public static async Task<CommandResult> RunAsync(
        string program,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null,
        string? asUser = null,
        TimeSpan? limit = null)
    {
        var args = arguments.ToList();
        var start = asUser is not null && IsRoot
            ? new ProcessStartInfo("runuser", ["-u", asUser, "--", "env", .. Env(environment), program, .. args])
            : new ProcessStartInfo(program, args);
        if (asUser is null || !IsRoot)
        {
            foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            {
                start.Environment[name] = value;
            }
        }

        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.WorkingDirectory = Path.GetTempPath();
        using var process = new Process { StartInfo = start };
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return new CommandResult(-1, $"{program} could not be started: {ex.Message}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(limit ?? TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return new CommandResult(-1, $"{program} {string.Join(' ', args)} did not finish in time. {Text(output)}");
        }

        return new CommandResult(process.ExitCode, Text(output));
    }

    private static IEnumerable<string> Env(IReadOnlyDictionary<string, string>? environment) =>
        (environment ?? new Dictionary<string, string>()).Select(e => $"{e.Key}={e.Value}");

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}
