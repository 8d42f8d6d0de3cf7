using System.Diagnostics;
using System.Runtime.InteropServices;

namespace JobDedup.WorkerDemo;

/// <summary>The JobDedup worker, started as its own process and configured only by environment variables.</summary>
internal sealed partial class Worker : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _consuming = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _output = [];

    private Worker(Process process) => _process = process;

    public static Worker Start(string dll, IReadOnlyDictionary<string, string> environment)
    {
        dll = Path.GetFullPath(dll);
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var worker = new Worker(new Process { StartInfo = start });
        worker._process.OutputDataReceived += (_, e) => worker.Seen(e.Data);
        worker._process.ErrorDataReceived += (_, e) => worker.Seen(e.Data);
        worker._process.Start();
        worker._process.BeginOutputReadLine();
        worker._process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Waits until the worker says it is consuming; fails with what it printed if it exits first.</summary>
    public async Task WaitUntilConsumingAsync(TimeSpan limit)
    {
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(_consuming.Task, exited).WaitAsync(limit);
        if (first == exited)
        {
            throw new InvalidOperationException($"The worker exited with code {_process.ExitCode}:{Environment.NewLine}{Output}");
        }
    }

    /// <summary>Sends SIGTERM, the way a container runtime stops it, and waits for a clean exit.</summary>
    public async Task<int> StopAsync(TimeSpan limit)
    {
        _ = Kill(_process.Id, 15);
        await _process.WaitForExitAsync().WaitAsync(limit);
        return _process.ExitCode;
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join(Environment.NewLine, _output);
            }
        }
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

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    private void Seen(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Add(line);
        }

        if (line.Contains("is consuming queue", StringComparison.Ordinal))
        {
            _consuming.TrySetResult();
        }
    }
}
