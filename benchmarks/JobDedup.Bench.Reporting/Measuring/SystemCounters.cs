using System.Diagnostics;
using System.Globalization;

namespace JobDedup.Bench.Reporting.Measuring;

/// <summary>
/// Reads CPU time from /proc: this process, some watched processes (a broker on the same machine), and the machine as a
/// whole, so that a run can say where the cores went, including to other work on the shared machine.
/// </summary>
public sealed class SystemCounters
{
    private readonly int[] _watchedPids;
    private readonly double _ticksPerSecond;

    private SystemCounters(int[] watchedPids, double ticksPerSecond)
    {
        _watchedPids = watchedPids;
        _ticksPerSecond = ticksPerSecond;
    }

    /// <summary>Gets a value indicating whether a watched process was found and its CPU time can be read.</summary>
    public bool SeesWatched => _watchedPids.Length > 0;

    /// <summary>Counters for this process and the machine only.</summary>
    public static SystemCounters ForThisProcess() => new([], ClockTicksPerSecond());

    /// <summary>Counters that also watch every process whose name (comm) and NUL-separated command line <paramref name="watch"/> accepts.</summary>
    public static SystemCounters Find(Func<string, string, bool> watch)
    {
        ArgumentNullException.ThrowIfNull(watch);
        var pids = new List<int>();
        if (Directory.Exists("/proc"))
        {
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                {
                    continue;
                }

                try
                {
                    var comm = File.ReadAllText(Path.Combine(directory, "comm")).Trim();
                    var cmdline = File.ReadAllText(Path.Combine(directory, "cmdline"));
                    if (watch(comm, cmdline))
                    {
                        pids.Add(pid);
                    }
                }
                catch (IOException)
                {
                    // The process ended while we looked.
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }

        return new SystemCounters([.. pids], ClockTicksPerSecond());
    }

    /// <summary>Reads every counter now.</summary>
    public CounterSnapshot Read()
    {
        var (busy, total) = Machine();
        using var process = Process.GetCurrentProcess();
        return new CounterSnapshot(
            Stopwatch.GetTimestamp(),
            process.TotalProcessorTime,
            Watched(),
            busy,
            total,
            GC.GetTotalAllocatedBytes(precise: false),
            GC.CollectionCount(0),
            GC.CollectionCount(1),
            GC.CollectionCount(2),
            TcpSegmentsSent());
    }

    /// <summary>TCP segments sent by the whole machine (on loopback, each is also one received): how finely frames are flushed.</summary>
    private static long? TcpSegmentsSent()
    {
        try
        {
            // Two "Tcp:" lines: the field names, then the values.
            var lines = File.ReadLines("/proc/net/snmp").Where(l => l.StartsWith("Tcp:", StringComparison.Ordinal)).Take(2).ToArray();
            var index = Array.IndexOf(lines[0].Split(' '), "OutSegs");
            return index < 0 ? null : long.Parse(lines[1].Split(' ')[index], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static double ClockTicksPerSecond()
    {
        // Read once, before any measurement, so waiting on the command here costs no measured time.
        var text = Reporting.Machine.CommandOutput.RunAsync("getconf", "CLK_TCK").GetAwaiter().GetResult();
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var ticks) && ticks > 0 ? ticks : 100;
    }

    private TimeSpan? Watched()
    {
        if (_watchedPids.Length == 0)
        {
            return null;
        }

        long ticks = 0;
        foreach (var pid in _watchedPids)
        {
            try
            {
                // Fields after the command name (which may hold spaces, so split after its closing parenthesis):
                // utime and stime are the 14th and 15th fields of the line.
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                return null;
            }
        }

        return TimeSpan.FromSeconds(ticks / _ticksPerSecond);
    }

    private (TimeSpan? Busy, TimeSpan? Total) Machine()
    {
        try
        {
            // cpu  user nice system idle iowait irq softirq steal ...
            var line = File.ReadLines("/proc/stat").First();
            var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            var total = values.Sum();
            var idle = values[3] + values[4];
            return (TimeSpan.FromSeconds((total - idle) / _ticksPerSecond), TimeSpan.FromSeconds(total / _ticksPerSecond));
        }
        catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException or InvalidOperationException)
        {
            return (null, null);
        }
    }
}
