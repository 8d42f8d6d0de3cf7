using System.Runtime.CompilerServices;

namespace JobDedup.Core.Tests.Support;

/// <summary>Counts the task exceptions nobody observed, for "no fire-and-forget task left unobserved".</summary>
public static class UnobservedExceptions
{
    /// <summary>
    /// Runs <paramref name="scenario"/> to its end, lets the garbage collector finalize what it left, and counts the
    /// unobserved task exceptions whose message is <paramref name="marker"/>.
    /// </summary>
    public static int Count(string marker, Func<Task> scenario)
    {
        var count = 0;
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
        {
            if (e.Exception.Flatten().InnerExceptions.Any(x => x.Message == marker))
            {
                Interlocked.Increment(ref count);
            }
        }

        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            RunAndForget(scenario);
            for (var i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            return Volatile.Read(ref count);
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }
    }

    // Runs the scenario to the end on a separate frame, so nothing it created stays reachable from the test.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RunAndForget(Func<Task> scenario) => Task.Run(scenario).Within().GetAwaiter().GetResult();
}
