using System.Diagnostics;
using System.Text;
using JobDedup.Faults.Tests.Servers;

namespace JobDedup.Faults.Tests.Processes;

/// <summary>
/// One worker process as users run it (<c>dotnet JobDedup.Worker.dll</c>, settings only from the environment, content
/// root given explicitly), recorded in the suite's pid files so that an aborted run's workers are ended by the next one.
/// Its output goes to a log file under the suite's directory and is kept for failure messages.
/// </summary>
internal sealed class FaultWorker : IAsyncDisposable
{
    private const string Kind = "worker";
    private readonly Process _process;
    private readonly FaultDirectory _faults;
    private readonly StringBuilder _output = new();
    private readonly StreamWriter _log;
    private readonly TaskCompletionSource _consuming = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FaultWorker(Process process, FaultDirectory faults, string name, StreamWriter log)
    {
        _process = process;
        _faults = faults;
        Name = name;
        _log = log;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Completes when the worker logged that it consumes a queue.</summary>
    public Task Consuming => _consuming.Task;

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

    /// <summary>The last lines the worker wrote, for failure messages.</summary>
    public string Tail(int lines = 40) =>
        $"--- {Name} (pid {Pid}), last lines ---\n" + string.Join('\n', Output.Split('\n').TakeLast(lines));

    public static FaultWorker Start(FaultDirectory faults, string name, IReadOnlyDictionary<string, string> settings)
    {
        var dll = WorkerDll();
        var contentRoot = Path.GetDirectoryName(dll)!;
        var start = new ProcessStartInfo("dotnet", [dll, "--contentRoot", contentRoot])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = faults.Sub("workers"),
        };

        // Only the settings of this case: nothing of the environment the tests run in leaks into the worker's section.
        foreach (var inherited in start.Environment.Keys.Where(k => k.StartsWith("JobDedup__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(inherited);
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        var log = new StreamWriter(Path.Combine(faults.Sub("workers"), $"{name}-{DateTime.UtcNow:HHmmss.fff}.log")) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var worker = new FaultWorker(process, faults, name, log);
        process.OutputDataReceived += (_, e) => worker.Append(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Append(e.Data);
        process.Start();
        faults.Record(Kind, process.Id, dll);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Waits until the worker consumes, or fails with its output if it exits or takes too long.</summary>
    public async Task WaitConsumingAsync()
    {
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(Consuming, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (first != Consuming)
        {
            throw new InvalidOperationException($"Worker {Name} did not start consuming{(first == exited ? $" (it exited with {_process.ExitCode})" : " within 60 s")}.\n{Tail()}");
        }
    }

    /// <summary>SIGKILL: the process dies at once, as in a crash or an out-of-memory kill.</summary>
    public async Task KillAsync()
    {
        Signals.Send(Pid, Signals.Kill);
        await _process.WaitForExitAsync();
        _faults.Forget(Kind, Pid);
    }

    /// <summary>SIGTERM, as a container runtime sends; returns the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        if (!_process.HasExited)
        {
            Signals.Send(Pid, Signals.Terminate);
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await _process.WaitForExitAsync(limit.Token);
        }

        _faults.Forget(Kind, Pid);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Signals.Send(Pid, Signals.Kill);
            await _process.WaitForExitAsync();
        }

        _faults.Forget(Kind, Pid);
        _process.Dispose();
        await _log.DisposeAsync();
    }

    /// <summary>The worker's own build output, in the configuration these tests were built in.</summary>
    private static string WorkerDll()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = output.Name;
        var configuration = output.Parent!.Name;
        var repository = output.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(repository, "src", "JobDedup.Worker", "bin", configuration, framework, "JobDedup.Worker.dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"The worker is not built at {dll}; build the solution first.");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
            _log.WriteLine(line);
        }

        if (line.Contains("is consuming queue", StringComparison.Ordinal))
        {
            _consuming.TrySetResult();
        }
    }
}
