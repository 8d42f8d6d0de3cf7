namespace JobDedup.Bench.Reporting.Svg;

/// <summary>The colours the benchmark charts share, so that JobDedup and its baselines look the same on every chart.</summary>
public static class SvgPalette
{
    /// <summary>JobDedup's own rows.</summary>
    public const string Subject = "#2563eb";

    /// <summary>The baseline a ratio is taken against.</summary>
    public const string Baseline = "#6b7280";

    /// <summary>Other implementations compared.</summary>
    public const string Other = "#94a3b8";

    /// <summary>Rows shown for reference only, in no target.</summary>
    public const string Reference = "#e2e8f0";

    /// <summary>Secondary text: subtitles and axis headers.</summary>
    public const string Muted = "#374151";

    /// <summary>The attributes of a chart's title.</summary>
    public const string Title = "font-size=\"16\" font-weight=\"bold\"";

    /// <summary>The colour of a row, by its role.</summary>
    public static string For(bool isSubject, bool isBaseline, bool isReference = false) =>
        isSubject ? Subject : isBaseline ? Baseline : isReference ? Reference : Other;
}
