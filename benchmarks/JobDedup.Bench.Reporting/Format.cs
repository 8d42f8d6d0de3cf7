using System.Globalization;

namespace JobDedup.Bench.Reporting;

/// <summary>Numbers as the benchmark pages write them, always in the invariant culture.</summary>
public static class Format
{
    /// <summary>Formats an interpolated string in the invariant culture.</summary>
    public static string Invariant(FormattableString text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A duration given in nanoseconds, in the unit that reads best (ns, µs, ms, s).</summary>
    public static string Time(double nanoseconds) => nanoseconds switch
    {
        >= 1e9 => Invariant($"{nanoseconds / 1e9:0.00} s"),
        >= 1e6 => Invariant($"{nanoseconds / 1e6:0.00} ms"),
        >= 1e4 => Invariant($"{nanoseconds / 1e3:0.0} µs"),
        >= 1e3 => Invariant($"{nanoseconds / 1e3:0.00} µs"),
        >= 100 => Invariant($"{nanoseconds:0} ns"),
        _ => Invariant($"{nanoseconds:0.0} ns"),
    };

    /// <summary>A duration in seconds with two decimals, or n/a for NaN.</summary>
    public static string Seconds(double seconds) => double.IsNaN(seconds) ? "n/a" : Invariant($"{seconds:F2} s");

    /// <summary>A byte count in B, KB or MB, or n/a when it was not measured.</summary>
    public static string Bytes(double? bytes) => bytes switch
    {
        null => "n/a",
        >= 10 * 1024 * 1024 => Invariant($"{bytes / (1024 * 1024):0.0} MB"),
        >= 1024 => Invariant($"{bytes / 1024:0.0} KB"),
        _ => Invariant($"{bytes:0} B"),
    };

    /// <summary>A ratio of bytes, or null when the reference allocates (almost) nothing and the ratio would mean nothing.</summary>
    public static double? BytesRatio(double? bytes, double? reference) => (bytes, reference) switch
    {
        (null, _) or (_, null) => null,
        (0, 0) => 1,
        (_, < 16) => null,
        _ => bytes / reference,
    };

    /// <summary>A ratio such as <c>0.67x</c>, with <paramref name="decimals"/> decimals, or n/a.</summary>
    public static string Ratio(double? ratio, int decimals = 2) =>
        ratio is { } r ? r.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) + "x" : "n/a";

    /// <summary>A share of a whole (0..1) as a whole percentage, or n/a.</summary>
    public static string Share(double? share) => share is { } s ? Invariant($"{s * 100:0}%") : "n/a";

    /// <summary>A number with a .NET format string (grouped integer by default).</summary>
    public static string Number(double value, string format = "N0") => value.ToString(format, CultureInfo.InvariantCulture);
}
