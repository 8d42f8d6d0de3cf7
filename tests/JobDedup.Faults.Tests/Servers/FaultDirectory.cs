using System.Globalization;

namespace JobDedup.Faults.Tests.Servers;

/// <summary>
/// The suite's own directory (JOBDEDUP_FAULTS_DIR, else /tmp/jobdedup-faults): the private servers' files, the workers'
/// logs, and one pid file per process the suite started. A run that was aborted leaves its pid files behind; the next
/// run ends exactly those processes (and only if the process still runs the command the file names) before it starts.
/// </summary>
internal sealed class FaultDirectory
{
    private readonly string _pids;

    public FaultDirectory()
    {
        Root = Environment.GetEnvironmentVariable("JOBDEDUP_FAULTS_DIR") is { Length: > 0 } dir ? dir : "/tmp/jobdedup-faults";
        _pids = Path.Combine(Root, "pids");
        Directory.CreateDirectory(_pids);
    }

    public string Root { get; }

    /// <summary>A subdirectory, created if missing.</summary>
    public string Sub(string name)
    {
        var path = Path.Combine(Root, name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Records a process the suite started; <paramref name="marker"/> is a part of its command line that identifies it.</summary>
    public void Record(string kind, int pid, string marker) =>
        File.WriteAllText(PidFile(kind, pid), marker);

    /// <summary>Forgets a process that has ended.</summary>
    public void Forget(string kind, int pid) => File.Delete(PidFile(kind, pid));

    /// <summary>Kills every process an earlier, aborted run recorded and left running; returns what it ended.</summary>
    public async Task<List<string>> KillLeftoversAsync()
    {
        var ended = new List<string>();
        foreach (var file in Directory.GetFiles(_pids, "*.pid"))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            var pid = int.Parse(name[(name.LastIndexOf('-') + 1)..], CultureInfo.InvariantCulture);
            var marker = await File.ReadAllTextAsync(file);
            if (Signals.IsAlive(pid) && Signals.CommandLine(pid).Contains(marker, StringComparison.Ordinal))
            {
                Signals.Send(pid, Signals.Kill);
                await Signals.WaitGoneAsync(pid, TimeSpan.FromSeconds(10));
                ended.Add($"{name} ({marker})");
            }

            File.Delete(file);
        }

        return ended;
    }

    private string PidFile(string kind, int pid) => Path.Combine(_pids, $"{kind}-{pid.ToString(CultureInfo.InvariantCulture)}.pid");
}
