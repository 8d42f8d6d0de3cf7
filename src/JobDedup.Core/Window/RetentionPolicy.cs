namespace JobDedup.Window;

/// <summary>
/// How long the dedupe window keeps a finished run's outcome, by its class. Without a classifier a success is kept for
/// the dedupe window and a failure never; with one (<see cref="JobDedupOptions{TJob}.Retention"/>) it decides, and a
/// classifier that throws, or answers <see langword="null"/>, zero or less, keeps nothing. A
/// <see cref="DuplicatePolicy.Throttle"/> policy keeps what it covers (successes, and failures when it includes them)
/// for at least its window. Only successes and failures are ever kept.
/// </summary>
internal sealed class RetentionPolicy
{
    /// <summary>The longest the classifier can keep an outcome; a longer answer is cut to this.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromDays(365);

    private readonly TimeSpan _dedupeWindow;
    private readonly Func<OutcomeRetentionContext, TimeSpan?>? _classifier;
    private readonly TimeSpan _throttle;
    private readonly bool _throttleFailures;

    public RetentionPolicy(TimeSpan dedupeWindow, Func<OutcomeRetentionContext, TimeSpan?>? classifier, DuplicatePolicy onDuplicate)
    {
        _dedupeWindow = dedupeWindow;
        _classifier = classifier;
        if (onDuplicate.Kind == DuplicatePolicyKind.Throttle)
        {
            _throttle = onDuplicate.Window;
            _throttleFailures = onDuplicate.IncludeFailures;
        }
    }

    /// <summary>Gets a value indicating whether any outcome can be kept: only then does the deduplicator need a window.</summary>
    public bool KeepsAny => _dedupeWindow > TimeSpan.Zero || _classifier is not null || _throttle > TimeSpan.Zero;

    /// <summary>Gets the longest time a success is kept without a classifier (what a pending completion may wait for).</summary>
    public TimeSpan DefaultSuccessRetention => _dedupeWindow > _throttle ? _dedupeWindow : _throttle;

    /// <summary>Decides how long to keep a finished run's outcome.</summary>
    /// <param name="outcome">The outcome the run ended with.</param>
    /// <param name="classifierFailure">What the classifier threw, when it threw (nothing is kept then but what a throttle covers).</param>
    /// <returns>How long to keep it; <see cref="TimeSpan.Zero"/> to keep nothing.</returns>
    public TimeSpan For<TResult>(in JobOutcome<TResult> outcome, out Exception? classifierFailure)
    {
        classifierFailure = null;
        var succeeded = outcome.Status == JobStatus.Succeeded;
        if (!succeeded && outcome.Status != JobStatus.Failed)
        {
            return TimeSpan.Zero; // canceled, refused, unavailable: nothing ran to its end
        }

        TimeSpan keep;
        if (_classifier is null)
        {
            keep = succeeded ? _dedupeWindow : TimeSpan.Zero;
        }
        else
        {
            try
            {
                keep = _classifier(new OutcomeRetentionContext(outcome.Key, outcome.Status, succeeded ? (object?)outcome.Value : null, outcome.Exception, _dedupeWindow))
                    ?? TimeSpan.Zero;
                keep = keep > Longest ? Longest : keep;
            }
            catch (Exception ex)
            {
                classifierFailure = ex;
                keep = TimeSpan.Zero;
            }
        }

        if ((succeeded || _throttleFailures) && _throttle > keep)
        {
            keep = _throttle;
        }

        return keep <= TimeSpan.Zero ? TimeSpan.Zero : keep;
    }
}
