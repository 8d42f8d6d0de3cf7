namespace JobDedup.Benchmarks.Load;

/// <summary>One job as both pipelines move it: its dedupe key and a payload.</summary>
public readonly record struct JobItem(string Key, int Id);
