using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace JobDedup.Redis.Tests.Support;

/// <summary>A process of the tests' own (the cache client helper, or a Redis server): its output read line by line, killed at the end.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    private ChildProcess(Process process) => _process = process;

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

    public bool HasExited => _process.HasExited;

    public int Id => _process.Id;

    /// <summary>Starts the cache client helper (tests/JobDedup.Redis.CacheClient) from its own build output.</summary>
    public static ChildProcess CacheClient(params string[] arguments) => Start("dotnet", [CacheClientDll(), .. arguments]);

    public static ChildProcess Start(string fileName, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) => child.Append(e.Data, toLines: true);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data, toLines: false);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Reads output lines until one starts with <paramref name="prefix"/>; fails if the process ends first.</summary>
    public async Task<string> LineAsync(string prefix)
    {
        using var timeout = new CancellationTokenSource(Watchdog.Limit);
        try
        {
            while (await _lines.Reader.WaitToReadAsync(timeout.Token))
            {
                while (_lines.Reader.TryRead(out var line))
                {
                    if (line.StartsWith(prefix, StringComparison.Ordinal))
                    {
                        return line;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No line starting with '{prefix}' within {Watchdog.Limit}:{Environment.NewLine}{Output}");
        }

        throw new InvalidOperationException($"The process ended before printing '{prefix}':{Environment.NewLine}{Output}");
    }

    public async Task SendAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Ends the process at once, as a crash would: no shutdown, no release.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync().Within();
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

    private static string CacheClientDll()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testOutput.Name;
        var configuration = testOutput.Parent!.Name;
        var repository = testOutput.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(repository, "tests", "JobDedup.Redis.CacheClient", "bin", configuration, framework, "JobDedup.Redis.CacheClient.dll");
        Assert.True(File.Exists(dll), $"The cache client is not built at {dll}; build the test project first.");
        return dll;
    }

    private void Append(string? line, bool toLines)
    {
        if (line is null)
        {
            // The end of the stream: every line has been delivered.
            if (toLines)
            {
                _lines.Writer.TryComplete();
            }

            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (toLines)
        {
            _lines.Writer.TryWrite(line);
        }
    }
}
