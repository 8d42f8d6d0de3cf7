using System.Globalization;

namespace JobDedup.Demo;

/// <summary>Number formats shared by the tables.</summary>
internal static class Format
{
    public static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.000 s", CultureInfo.InvariantCulture);

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Ratio(TimeSpan before, TimeSpan after) =>
        after <= TimeSpan.Zero ? "-" : (before / after).ToString("0.0x", CultureInfo.InvariantCulture);

    public static string Stats(string label, DeduplicationStats stats) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"   {label} stats: hits {stats.Hits}, misses {stats.Misses}, hit rate {stats.HitRate:P1}");
}
