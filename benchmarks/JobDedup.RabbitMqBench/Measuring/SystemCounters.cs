using System.Diagnostics;
using System.Globalization;

namespace JobDedup.RabbitMqBench.Measuring;

/// <summary>
/// Reads CPU time from /proc: this process, the RabbitMQ node (its beam.smp), and the machine as a whole, so that a
/// run can say where the two cores went, including to other work on the machine.
/// </summary>
internal sealed class SystemCounters
{
    private readonly int[] _brokerPids;
    private readonly double _ticksPerSecond;

    private SystemCounters(int[] brokerPids, double ticksPerSecond)
    {
        _brokerPids = brokerPids;
        _ticksPerSecond = ticksPerSecond;
    }

    /// <summary>Gets a value indicating whether the broker runs on this machine and its CPU time can be read.</summary>
    public bool SeesBroker => _brokerPids.Length > 0;

    public static SystemCounters Find()
    {
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

                    // The node (started with "-s rabbit boot"), not a CLI tool such as rabbitmqctl, which runs in a beam.smp too.
                    if (comm == "beam.smp" && cmdline.Contains("rabbit\0boot", StringComparison.Ordinal))
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

    public Snapshot Read()
    {
        var (busy, total) = Machine();
        return new Snapshot(
            Stopwatch.GetTimestamp(),
            Process.GetCurrentProcess().TotalProcessorTime,
            Broker(),
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

    private TimeSpan? Broker()
    {
        if (_brokerPids.Length == 0)
        {
            return null;
        }

        long ticks = 0;
        foreach (var pid in _brokerPids)
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

    private static double ClockTicksPerSecond()
    {
        try
        {
            var start = new ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true };
            using var process = Process.Start(start);
            var text = process?.StandardOutput.ReadToEnd().Trim();
            process?.WaitForExit(5_000);
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var ticks) && ticks > 0 ? ticks : 100;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return 100;
        }
    }
}
