namespace JobDedup.LoadTest;

/// <summary>Everything the report is made from.</summary>
internal sealed record ReportData(
    MachineInfo Machine,
    ServerInfo Server,
    IReadOnlyList<RunResult> Runs,
    IReadOnlyList<Comparison> Comparisons,
    int Requests,
    int Concurrency,
    int ProductId,
    double TargetRatio,
    string MeasuredAt,
    string Command,
    string ToolCommand);
