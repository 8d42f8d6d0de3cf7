namespace JobDedup.Worker.Http.Stats;

/// <summary>
/// Handler attempt durations of one pipeline since the last <see cref="TakeSecond"/>, in fixed buckets counted with
/// interlocked adds: recording takes no lock and allocates nothing, on the handlers' path.
/// </summary>
internal sealed class LatencyHistogram
{
    /// <summary>The buckets' upper bounds, in milliseconds; a duration above the last one counts in an extra bucket.</summary>
    internal static readonly double[] Bounds = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000];

    private readonly long[] _counts = new long[Bounds.Length + 1];
    private long _maxBits;

    public void Record(double milliseconds)
    {
        var bucket = Array.BinarySearch(Bounds, milliseconds);
        Interlocked.Increment(ref _counts[bucket >= 0 ? bucket : ~bucket]);
        var seen = Interlocked.Read(ref _maxBits);
        while (milliseconds > BitConverter.Int64BitsToDouble(seen))
        {
            var previous = Interlocked.CompareExchange(ref _maxBits, BitConverter.DoubleToInt64Bits(milliseconds), seen);
            if (previous == seen)
            {
                break;
            }

            seen = previous;
        }
    }

    /// <summary>Takes the counts recorded since the last call and starts over.</summary>
    public LatencySummary TakeSecond()
    {
        var counts = new long[_counts.Length];
        long total = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = Interlocked.Exchange(ref _counts[i], 0);
            total += counts[i];
        }

        var max = BitConverter.Int64BitsToDouble(Interlocked.Exchange(ref _maxBits, 0));
        return total == 0
            ? LatencySummary.None
            : new LatencySummary(total, Percentile(counts, total, 0.50, max), Percentile(counts, total, 0.95, max), max);
    }

    /// <summary>The upper bound of the bucket holding the percentile, never above the largest duration seen.</summary>
    internal static double Percentile(long[] counts, long total, double share, double max)
    {
        var rank = (long)Math.Ceiling(share * total);
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                return i < Bounds.Length ? Math.Min(Bounds[i], max) : max;
            }
        }

        return max;
    }
}
