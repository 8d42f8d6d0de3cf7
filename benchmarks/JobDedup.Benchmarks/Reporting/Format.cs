using System.Globalization;

namespace JobDedup.Benchmarks.Reporting;

/// <summary>Numbers as the report writes them: times in the unit that reads best, bytes, ratios.</summary>
public static class Format
{
    public static string Time(double nanoseconds) => nanoseconds switch
    {
        >= 1e9 => Invariant($"{nanoseconds / 1e9:0.00} s"),
        >= 1e6 => Invariant($"{nanoseconds / 1e6:0.00} ms"),
        >= 1e4 => Invariant($"{nanoseconds / 1e3:0.0} µs"),
        >= 1e3 => Invariant($"{nanoseconds / 1e3:0.00} µs"),
        >= 100 => Invariant($"{nanoseconds:0} ns"),
        _ => Invariant($"{nanoseconds:0.0} ns"),
    };

    public static string Bytes(double? bytes) => bytes switch
    {
        null => "n/a",
        >= 10 * 1024 * 1024 => Invariant($"{bytes / (1024 * 1024):0.0} MB"),
        >= 1024 => Invariant($"{bytes / 1024:0.0} KB"),
        _ => Invariant($"{bytes:0} B"),
    };

    /// <summary>A ratio of bytes, or n/a when the baseline allocates (almost) nothing and the ratio would mean nothing.</summary>
    public static double? BytesRatio(double? bytes, double? baseline) => (bytes, baseline) switch
    {
        (null, _) or (_, null) => null,
        (0, 0) => 1,
        (_, < 16) => null,
        _ => bytes / baseline,
    };

    public static string Ratio(double? ratio) => ratio is null ? "n/a" : Invariant($"{ratio:0.00}x");

    public static string Number(double value, string format = "N0") => value.ToString(format, CultureInfo.InvariantCulture);

    public static string Invariant(FormattableString text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.ToString(CultureInfo.InvariantCulture);
    }
}
