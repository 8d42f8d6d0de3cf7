using Microsoft.Coyote.Runtime;

namespace JobDedup.Concurrency.Tests.Support;

/// <summary>
/// Models a call that blocks its thread for a while (a synchronous SDK call): a bounded number of short steps, each a
/// scheduling point for the testing engine and a short sleep on a thread it does not control.
/// </summary>
internal static class BlockingCall
{
    /// <summary>Blocks for up to <paramref name="steps"/> steps, or less once <paramref name="enough"/> holds.</summary>
    public static void Run(int steps, Func<bool> enough)
    {
        for (var step = 0; step < steps && !enough(); step++)
        {
            SchedulingPoint.Interleave();
            Thread.Sleep(1);
        }
    }

    /// <summary>Waits asynchronously for up to <paramref name="steps"/> steps, or less once <paramref name="enough"/> holds.</summary>
    public static async Task RunAsync(int steps, Func<bool> enough)
    {
        for (var step = 0; step < steps && !enough(); step++)
        {
            SchedulingPoint.Interleave();
            await Task.Delay(1).ConfigureAwait(false);
        }
    }
}
