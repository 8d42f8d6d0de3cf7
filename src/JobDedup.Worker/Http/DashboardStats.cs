using JobDedup.Worker.Http.Stats;

namespace JobDedup.Worker.Http;

/// <summary>The body of <c>/api/stats</c>.</summary>
/// <param name="IntervalSeconds">Seconds between samples.</param>
/// <param name="HistorySeconds">How far back the samples go, at most.</param>
/// <param name="ShowKeys">Whether the hottest keys are listed (otherwise no key is in the body).</param>
/// <param name="Pipelines">Each pipeline, with its samples.</param>
internal sealed record DashboardStats(int IntervalSeconds, int HistorySeconds, bool ShowKeys, IReadOnlyList<PipelineNow> Pipelines);
