using System.Runtime.InteropServices;

namespace JobDedup.Faults.Tests.Servers;

/// <summary>Signals to processes the suite started, by pid.</summary>
internal static partial class Signals
{
    public const int Kill = 9;
    public const int Terminate = 15;

    /// <summary>Sends a signal; false if there is no such process.</summary>
    public static bool Send(int pid, int signal) => Native(pid, signal) == 0;

    /// <summary>Gets a value indicating whether a process with this pid exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state != "Z";
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>The process's command line, arguments separated by spaces; empty if it is gone.</summary>
    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    /// <summary>Waits (bounded) until the process is gone.</summary>
    public static async Task<bool> WaitGoneAsync(int pid, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (IsAlive(pid))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Native(int pid, int signal);
}
