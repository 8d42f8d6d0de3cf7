namespace JobDedup.LoadTest;

/// <summary>Words and number formats shared by the console table, the report and the chart.</summary>
internal static class Describe
{
    public static string ShortName(LoadShape shape) => shape switch
    {
        LoadShape.Waves => "original shape",
        LoadShape.Workers => "closed loop",
        _ => shape.ToString(),
    };

    public static string Title(LoadShape shape, int requests, int concurrency) => shape switch
    {
        LoadShape.Waves => FormattableString.Invariant(
            $"Original load shape: {requests} requests started in waves of {concurrency} without waiting, all in flight at once"),
        LoadShape.Workers => FormattableString.Invariant(
            $"Closed loop: {concurrency} workers, each sending its next request when the last is answered, {requests} in all"),
        _ => shape.ToString(),
    };

    public static string Ms(double seconds) => double.IsNaN(seconds) ? "n/a" : FormattableString.Invariant($"{seconds * 1000:F1}");

    public static string Seconds(double seconds) => FormattableString.Invariant($"{seconds:F2} s");

    public static string Rate(double perSecond) => FormattableString.Invariant($"{perSecond:F1}");

    public static string Ratio(double ratio) => FormattableString.Invariant($"{ratio:F1}x");

    public static string Percent(double share) => FormattableString.Invariant($"{share * 100:F1}%");
}
