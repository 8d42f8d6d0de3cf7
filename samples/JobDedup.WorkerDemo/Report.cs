using System.Globalization;

namespace JobDedup.WorkerDemo;

/// <summary>The side-by-side report of the two runs.</summary>
internal static class Report
{
    public static void Print(BurstResult on, BurstResult off)
    {
        var rows = new (string Name, Func<BurstResult, string> Value)[]
        {
            ("messages published", r => Number(r.Published)),
            ("acked (answered with success)", r => Number(r.Acked)),
            ("dead-lettered", r => Number(r.DeadLettered)),
            ("left in the queue after stop", r => Number(r.LeftInQueue)),
            ("calls to the payment service", r => Number(r.CallsPerEvent.Values.Sum())),
            ("event ids seen by the service", r => Number(r.CallsPerEvent.Count)),
            ("time taken", r => $"{r.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s"),
            ("worker exit code after SIGTERM", r => Number(r.WorkerExitCode)),
        };
        Table(["", on.Mode, off.Mode], rows.Select(row => new[] { row.Name, row.Value(on), row.Value(off) }));

        Console.WriteLine();
        Console.WriteLine("Calls to the payment service per event id:");
        var ids = on.CallsPerEvent.Keys.Union(off.CallsPerEvent.Keys).Order(StringComparer.Ordinal);
        Table(["event id", on.Mode, off.Mode], ids.Select(id => new[] { id, Number(on.CallsPerEvent.GetValueOrDefault(id)), Number(off.CallsPerEvent.GetValueOrDefault(id)) }));

        Console.WriteLine();
        var onCalls = on.CallsPerEvent.Values.Sum();
        var offCalls = off.CallsPerEvent.Values.Sum();
        Console.WriteLine(
            $"With deduplication, {on.Published} webhooks caused {onCalls} charge call(s), one per event id; without it, {offCalls}. " +
            $"Every webhook was still answered and acked in both runs: {(on.Acked == on.Published && off.Acked == off.Published ? "yes" : "NO")}.");
    }

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static void Table(string[] header, IEnumerable<string[]> rows)
    {
        var all = rows.Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(c => all.Max(r => r[c].Length)).ToArray();
        foreach (var (row, index) in all.Select((r, i) => (r, i)))
        {
            Console.WriteLine(string.Join("   ", row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))));
            if (index == 0)
            {
                Console.WriteLine(string.Join("   ", widths.Select(w => new string('-', w))));
            }
        }
    }
}
