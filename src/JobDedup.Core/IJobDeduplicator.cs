namespace JobDedup;

/// <summary>
/// Removes duplicate work: jobs with the same key that overlap share one handler run, and every caller receives
/// that run's outcome. A completed job can be remembered for a dedupe window so late duplicates are answered
/// without a second run.
/// </summary>
/// <typeparam name="TJob">The job type.</typeparam>
/// <typeparam name="TResult">The handler's result type.</typeparam>
public interface IJobDeduplicator<TJob, TResult>
{
    /// <summary>Gets the deduplicator's name; keys are scoped to it.</summary>
    string Name { get; }

    /// <summary>Submits a job whose key comes from <see cref="JobDedupOptions{TJob}.KeySelector"/>.</summary>
    /// <param name="job">The job.</param>
    /// <param name="cancellationToken">Detaches this caller only; the flight goes on for the others.</param>
    /// <returns>This caller's outcome. Failures are returned, not thrown.</returns>
    /// <exception cref="ArgumentException">The key selector returned a key the <see cref="KeyPolicy"/> refuses (null, empty, too long, or holding a control character); the message says why.</exception>
    /// <exception cref="InvalidOperationException">No key selector is configured.</exception>
    /// <exception cref="ObjectDisposedException">The deduplicator is stopping or stopped.</exception>
    ValueTask<JobOutcome<TResult>> EnqueueAsync(TJob job, CancellationToken cancellationToken = default);

    /// <summary>Submits a job under an explicit key.</summary>
    /// <param name="key">The dedupe key.</param>
    /// <param name="job">The job.</param>
    /// <param name="cancellationToken">Detaches this caller only; the flight goes on for the others.</param>
    /// <returns>This caller's outcome. Failures are returned, not thrown.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is refused by the <see cref="KeyPolicy"/> (empty, longer than <see cref="JobDedupOptions{TJob}.MaxKeyBytes"/>, or holding a control character); the message says why.</exception>
    /// <exception cref="ObjectDisposedException">The deduplicator is stopping or stopped.</exception>
    ValueTask<JobOutcome<TResult>> EnqueueAsync(string key, TJob job, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes the next job with this key start a new flight: the key leaves the in-flight map and the dedupe window.
    /// A flight already running goes on for its callers, and its outcome is not kept.
    /// </summary>
    /// <remarks>
    /// A job enqueued after this returns never receives the forgotten outcome, on any store: its flight first waits
    /// for the removal from the store (and for a handler of the key still running, which never overlaps the new one).
    /// The removal itself goes on in the background; a failure of it is logged. Use <see cref="ForgetAsync"/> to wait
    /// for the removal and see its failure.
    /// </remarks>
    /// <param name="key">The dedupe key.</param>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is refused by the <see cref="KeyPolicy"/>.</exception>
    void Forget(string key);

    /// <summary>
    /// Forgets the key as <see cref="Forget"/> does, and completes once the outcome store has removed the kept outcome
    /// (after any write of it that was in progress).
    /// </summary>
    /// <param name="key">The dedupe key.</param>
    /// <param name="cancellationToken">Stops waiting; the key stays forgotten and the removal goes on.</param>
    /// <returns>A task that completes when the store no longer holds the outcome; it faults when the store failed to remove it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is refused by the <see cref="KeyPolicy"/>.</exception>
    ValueTask ForgetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Forgets every key in flight and in the dedupe window.</summary>
    void ForgetAll();

    /// <summary>Returns the counters since start or the last <see cref="ResetStats"/>.</summary>
    /// <returns>A snapshot.</returns>
    DeduplicationStats GetStats();

    /// <summary>Sets the counters (hits, misses, errors, retries, leader elections) back to zero.</summary>
    void ResetStats();

    /// <summary>
    /// Returns a moment's view of the keys in flight: how many, the age of the oldest, and the
    /// <paramref name="hottest"/> flights with the most callers attached. It reads the in-flight map once, without a
    /// lock, and costs the handlers nothing; a monitor may call it every second.
    /// </summary>
    /// <param name="hottest">How many of the flights with the most callers to list (their keys included); 0 lists none.</param>
    /// <returns>A snapshot; a flight that ends while it is taken may still be counted.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="hottest"/> is negative.</exception>
    InFlightSnapshot GetInFlight(int hottest = 0);
}
