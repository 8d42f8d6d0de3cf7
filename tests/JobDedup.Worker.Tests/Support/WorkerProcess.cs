using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace JobDedup.Worker.Tests.Support;

/// <summary>The worker as users run it: a child process configured only by environment variables.</summary>
public sealed partial class WorkerProcess : IAsyncDisposable
{
    private const int SigTerm = 15;
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _consuming = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkerProcess(Process process) => _process = process;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the worker; <paramref name="dll"/> and <paramref name="workingDirectory"/> default to the built worker and its folder.</summary>
    public static WorkerProcess Start(IReadOnlyDictionary<string, string> environment, string? dll = null, string? workingDirectory = null)
    {
        var worker = dll ?? WorkerDll();
        var start = new ProcessStartInfo("dotnet", [worker])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(worker)!,
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";

        // Several workers run at once (here and in other test runs): each HTTP face on a port of its own.
        start.Environment["JobDedup__Http__Port"] = "0";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var running = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) => running.Append(e.Data);
        process.ErrorDataReceived += (_, e) => running.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return running;
    }

    /// <summary>Completes when every pipeline logged that it is consuming.</summary>
    public Task Consuming => _consuming.Task;

    /// <summary>Sends SIGTERM, as a container runtime or systemd does, and waits for the process to exit.</summary>
    public async Task<int> TerminateAsync()
    {
        Assert.Equal(0, Kill(_process.Id, SigTerm));
        await _process.WaitForExitAsync().Within();
        return _process.ExitCode;
    }

    /// <summary>Sends SIGKILL, as a crash or the out-of-memory killer does: nothing runs after it.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync().Within();
    }

    /// <summary>The partitions the worker said it consumes last (its "consumes partitions [...]" line), none before it said so.</summary>
    public HashSet<int> ConsumedPartitions() => LastPartitionReport().Consumed;

    /// <summary>
    /// The worker's last "consumes partitions [...]" line: what it consumes, its share, and the group's size as it saw
    /// them (nothing, a share of 0 among 0, before it said so). The worker says it again whenever one of them changes.
    /// </summary>
    public PartitionReport LastPartitionReport()
    {
        // Matched from the end: the last line is the one that counts.
        var report = PartitionLine().Match(Output);
        if (!report.Success)
        {
            return new PartitionReport([], 0, 0);
        }

        var last = report.Groups;
        int Number(string text) => int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        return new PartitionReport(
            [.. last["partitions"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Number)],
            Number(last["share"].Value),
            Number(last["members"].Value));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"consumes partitions \[(?<partitions>[^\]]*)\]: \d+ of \d+, its share is (?<share>\d+) among (?<members>\d+) instance", System.Text.RegularExpressions.RegexOptions.RightToLeft)]
    private static partial System.Text.RegularExpressions.Regex PartitionLine();

    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().Within();
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    /// <summary>
    /// The worker's own build output (same configuration as the tests), so it runs with its own dependencies rather
    /// than this test project's.
    /// </summary>
    /// <summary>Gets the path of the built worker.</summary>
    public static string WorkerDll()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testOutput.Name;
        var configuration = testOutput.Parent!.Name;
        var repository = testOutput.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(repository, "src", "JobDedup.Worker", "bin", configuration, framework, "JobDedup.Worker.dll");
        Assert.True(File.Exists(dll), $"The worker is not built at {dll}; build the solution first.");
        return dll;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (line.Contains("is consuming queue", StringComparison.Ordinal))
        {
            _consuming.TrySetResult();
        }
    }
}
