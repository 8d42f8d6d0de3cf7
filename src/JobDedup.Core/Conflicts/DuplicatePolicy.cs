namespace JobDedup;

/// <summary>
/// What happens to a job whose key is already in flight (or, for <see cref="Throttle"/>, ran a moment ago). Set it
/// as <see cref="JobDedupOptions{TJob}.OnDuplicate"/>. The dedupe window applies under every policy.
/// </summary>
public sealed class DuplicatePolicy
{
    private DuplicatePolicy(DuplicatePolicyKind kind, TimeSpan delay, TimeSpan maxWait, TimeSpan window, bool includeFailures)
    {
        Kind = kind;
        Delay = delay;
        MaxWait = maxWait;
        Window = window;
        IncludeFailures = includeFailures;
    }

    /// <summary>Gets the policy that joins a duplicate to the flight: one run, every caller gets its outcome. The default.</summary>
    public static DuplicatePolicy Join { get; } = new(DuplicatePolicyKind.Join, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, false);

    /// <summary>Gets the policy that refuses a duplicate while its key is in flight (<see cref="JobStatus.Rejected"/>).</summary>
    public static DuplicatePolicy Reject { get; } = new(DuplicatePolicyKind.Reject, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, false);

    /// <summary>
    /// Gets the policy under which the newest payload replaces that of a flight whose handler has not started yet (it
    /// waits for a handler slot or for another instance's claim); the duplicate then joins. Once the handler started,
    /// a duplicate joins as under <see cref="Join"/>.
    /// </summary>
    public static DuplicatePolicy Replace { get; } = new(DuplicatePolicyKind.Replace, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, false);

    /// <summary>
    /// Gets the policy that keeps at most one run and one pending run per key: a duplicate that arrives while a run is
    /// in progress joins the pending run, whose payload becomes the latest arrival's; the pending run starts when the
    /// current one ends. No trigger is lost, and at most two runs are owed at any time.
    /// </summary>
    public static DuplicatePolicy KeepLatest { get; } = new(DuplicatePolicyKind.KeepLatest, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, false);

    /// <summary>Gets which policy this is.</summary>
    public DuplicatePolicyKind Kind { get; }

    /// <summary>Gets, for <see cref="DuplicatePolicyKind.Debounce"/>, how long the key must be quiet before its run starts.</summary>
    public TimeSpan Delay { get; }

    /// <summary>Gets, for <see cref="DuplicatePolicyKind.Debounce"/>, the longest a run waits after the first arrival.</summary>
    public TimeSpan MaxWait { get; }

    /// <summary>Gets, for <see cref="DuplicatePolicyKind.Throttle"/>, how long after a run repeats get its outcome without a run.</summary>
    public TimeSpan Window { get; }

    /// <summary>Gets, for <see cref="DuplicatePolicyKind.Throttle"/>, whether a failed run's outcome is also given to repeats within the window.</summary>
    public bool IncludeFailures { get; }

    /// <summary>
    /// Returns the policy that starts a key's run once the key has been quiet for <paramref name="delay"/>: each
    /// arrival joins and pushes the start back, but never later than <paramref name="maxWait"/> after the first
    /// arrival. The run uses the latest arrival's payload, and every caller gets its outcome.
    /// </summary>
    /// <param name="delay">The quiet time; greater than zero.</param>
    /// <param name="maxWait">The longest wait after the first arrival; at least <paramref name="delay"/>.</param>
    /// <returns>The policy.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A time is out of range.</exception>
    public static DuplicatePolicy Debounce(TimeSpan delay, TimeSpan maxWait)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(delay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWait, delay);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxWait, TimeSpan.FromDays(1));
        return new(DuplicatePolicyKind.Debounce, delay, maxWait, TimeSpan.Zero, false);
    }

    /// <summary>
    /// Returns the policy under which, after a run ends, repeats of its key within <paramref name="window"/> get its
    /// outcome without a run (a successful one always, a failed one when <paramref name="includeFailures"/> is set).
    /// In flight, duplicates join.
    /// </summary>
    /// <param name="window">How long after a run its outcome answers repeats; greater than zero.</param>
    /// <param name="includeFailures">Whether a failure also answers repeats within the window.</param>
    /// <returns>The policy.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="window"/> is out of range.</exception>
    public static DuplicatePolicy Throttle(TimeSpan window, bool includeFailures = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(window, TimeSpan.FromDays(365));
        return new(DuplicatePolicyKind.Throttle, TimeSpan.Zero, TimeSpan.Zero, window, includeFailures);
    }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        DuplicatePolicyKind.Debounce => $"Debounce({Delay}, {MaxWait})",
        DuplicatePolicyKind.Throttle => $"Throttle({Window}{(IncludeFailures ? ", includeFailures" : string.Empty)})",
        _ => Kind.ToString(),
    };
}
