namespace JobDedup.Conflicts;

/// <summary>
/// The duplicate policy as a pure function: given the policy and what holds the key, what the dispatcher does with
/// an arriving job. The dispatcher carries the action out; when the holder changed meanwhile, it decides again.
/// </summary>
internal static class DuplicateDecision
{
    /// <summary>Decides what happens to a job whose key is held as <paramref name="holder"/> says.</summary>
    /// <param name="policy">The deduplicator's <see cref="JobDedupOptions{TJob}.OnDuplicate"/>.</param>
    /// <param name="holder">What holds the key.</param>
    /// <returns>The action.</returns>
    public static DuplicateAction Decide(DuplicatePolicyKind policy, KeyHolder holder) => holder switch
    {
        KeyHolder.Pending => policy switch
        {
            DuplicatePolicyKind.Reject => DuplicateAction.Reject,
            DuplicatePolicyKind.Replace or DuplicatePolicyKind.KeepLatest => DuplicateAction.ReplaceJob,
            DuplicatePolicyKind.Debounce => DuplicateAction.Extend,
            _ => DuplicateAction.Join,
        },
        KeyHolder.Running => policy switch
        {
            DuplicatePolicyKind.Reject => DuplicateAction.Reject,
            DuplicatePolicyKind.KeepLatest => DuplicateAction.StartPending,
            _ => DuplicateAction.Join,
        },

        // An abandoned handler may still run: a trigger arriving meanwhile is owed a run of its own under KeepLatest,
        // never the abandoned run's outcome.
        KeyHolder.Abandoned when policy == DuplicatePolicyKind.KeepLatest => DuplicateAction.StartPending,
        _ => DuplicateAction.NewFlight,
    };

    /// <summary>
    /// Says what an arrival does when its job came too late to replace a flight's (the handler started meanwhile):
    /// join that run anyway, or decide again (under <see cref="DuplicatePolicyKind.KeepLatest"/>, where the arrival is
    /// owed a run with its own job, so it starts the pending flight instead).
    /// </summary>
    /// <param name="policy">The deduplicator's policy.</param>
    /// <returns><see langword="true"/> when the arrival joins the run it came too late for.</returns>
    public static bool JoinsOnceStarted(DuplicatePolicyKind policy) => policy != DuplicatePolicyKind.KeepLatest;
}
