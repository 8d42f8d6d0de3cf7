using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace JobDedup.PostgreSql.Tests.Support;

/// <summary>
/// A leader in a process of its own (tests/JobDedup.PostgreSql.LeaseHolder): it claims a key through a deduplicator
/// whose handler never returns, renews the claim while it lives, and is killed by the test.
/// </summary>
public sealed class LeaseHolderProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<long> _running = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> _holding = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LeaseHolderProcess(Process process) => _process = process;

    /// <summary>Completes with the holder's fencing token once its (first) handler runs.</summary>
    public Task<long> Running => _running.Task;

    /// <summary>Completes with the number of keys the holder claimed once every one of its handlers runs.</summary>
    public Task<int> Holding => _holding.Task;

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

    /// <param name="schema">The schema of the outcome table.</param>
    /// <param name="scope">The deduplicator's name.</param>
    /// <param name="key">The key it claims; with <paramref name="keys"/>, the stem of the keys <c>{key}-1</c> … <c>{key}-{keys}</c>.</param>
    /// <param name="lease">The claims' lease.</param>
    /// <param name="keys">How many keys it claims; just <paramref name="key"/> when omitted.</param>
    public static LeaseHolderProcess Start(TestSchema schema, string scope, string key, TimeSpan lease, int? keys = null)
    {
        var dll = LeaseHolderDll();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        foreach (var argument in new[] { dll, schema.ConnectionString, schema.Name, schema.Table, scope, key, lease.TotalSeconds.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        if (keys is { } count)
        {
            start.ArgumentList.Add(count.ToString(CultureInfo.InvariantCulture));
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var holder = new LeaseHolderProcess(process);
        process.OutputDataReceived += (_, e) => holder.Append(e.Data);
        process.ErrorDataReceived += (_, e) => holder.Append(e.Data);
        process.Exited += (_, _) =>
        {
            var early = new InvalidOperationException($"The lease holder exited early:{Environment.NewLine}{holder.Output}");
            holder._running.TrySetException(early);
            holder._holding.TrySetException(early);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return holder;
    }

    /// <summary>Ends the process at once with SIGKILL, as a crash or an OOM kill would: no shutdown, no release, no more renewals.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().Within();
    }

    public bool HasExited => _process.HasExited;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    /// <summary>The helper's own build output (same configuration as the tests), run with its own dependencies.</summary>
    private static string LeaseHolderDll()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testOutput.Name;
        var configuration = testOutput.Parent!.Name;
        var repository = testOutput.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(repository, "tests", "JobDedup.PostgreSql.LeaseHolder", "bin", configuration, framework, "JobDedup.PostgreSql.LeaseHolder.dll");
        Assert.True(File.Exists(dll), $"The lease holder is not built at {dll}; build the test project first.");
        return dll;
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
        }

        if (line.StartsWith("running ", StringComparison.Ordinal) && long.TryParse(line.AsSpan("running ".Length), CultureInfo.InvariantCulture, out var token))
        {
            _running.TrySetResult(token);
        }

        if (line.StartsWith("holding ", StringComparison.Ordinal) && int.TryParse(line.AsSpan("holding ".Length), CultureInfo.InvariantCulture, out var keys))
        {
            _holding.TrySetResult(keys);
        }
    }
}
