namespace JobDedup.Dispatching;

/// <summary>Outcomes the engine itself gives, where no handler decided.</summary>
internal static class JobDeduplicatorOutcomes
{
    public static JobOutcome<TResult> ShuttingDown<TResult>(string key, JobRole role, int attempts) =>
        JobOutcome<TResult>.Canceled(key, new OperationCanceledException("The deduplicator is shutting down."), role, attempts);
}
