namespace JobDedup;

/// <summary>
/// Tells a permanent failure (it will recur on every attempt, so it is never retried) from a transient one. One
/// classification serves every layer: the engine's in-process retries and a message consumer's redeliveries both ask
/// <see cref="JobDedupOptions{TJob}.IsPermanentFailure"/>, which defaults to <see cref="IsPermanentByDefault"/>.
/// </summary>
public static class FailureClassification
{
    /// <summary>
    /// The default classification. Permanent: <see cref="PermanentFailureException"/>, <see cref="ArgumentException"/>
    /// (with <see cref="ArgumentNullException"/> and <see cref="ArgumentOutOfRangeException"/>),
    /// <see cref="FormatException"/>, <see cref="InvalidCastException"/>, <see cref="NotSupportedException"/> and
    /// <see cref="NotImplementedException"/>, and a database's data error (<see cref="IsDataError"/>): each says the job
    /// itself is wrong or cannot be done here, which another attempt does not change. Everything else is transient, and a cancellation is never permanent.
    /// </summary>
    /// <param name="exception">The failure of an attempt.</param>
    /// <returns><see langword="true"/> when the failure is permanent.</returns>
    public static bool IsPermanentByDefault(Exception exception) =>
        exception is PermanentFailureException
            or ArgumentException
            or FormatException
            or InvalidCastException
            or NotSupportedException
            or NotImplementedException
            || IsDataError(exception);

    /// <summary>
    /// Whether a database refused a statement for the data it carried (SQLSTATE class 22, data exception, or 23,
    /// integrity constraint violation), not because it is out of reach: such an error comes back on every attempt.
    /// </summary>
    /// <param name="exception">The failure.</param>
    /// <returns><see langword="true"/> for a data error.</returns>
    public static bool IsDataError(Exception exception) =>
        exception is System.Data.Common.DbException { SqlState: ['2', '2' or '3', ..] };

    /// <summary>
    /// Asks <paramref name="classifier"/> (the default when null) whether <paramref name="exception"/> is permanent.
    /// A cancellation is never permanent. A <see cref="ReplayedFailureException"/> always is, whatever the classifier
    /// says: it is a failure the retention classifier kept as the key's final answer, so asking again gets it again;
    /// a message consumer dead-letters such a delivery at once. A classifier that throws counts as "not permanent" and its failure is
    /// returned in <paramref name="classifierFailure"/> to be logged.
    /// </summary>
    /// <param name="classifier">The classification in use; <see langword="null"/> for <see cref="IsPermanentByDefault"/>.</param>
    /// <param name="exception">The failure of an attempt.</param>
    /// <param name="classifierFailure">What the classifier threw, if it did.</param>
    /// <returns><see langword="true"/> when the failure is permanent.</returns>
    public static bool IsPermanent(Func<Exception, bool>? classifier, Exception exception, out Exception? classifierFailure)
    {
        ArgumentNullException.ThrowIfNull(exception);
        classifierFailure = null;
        if (exception is OperationCanceledException)
        {
            return false;
        }

        if (exception is ReplayedFailureException)
        {
            return true;
        }

        try
        {
            return (classifier ?? IsPermanentByDefault)(exception);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            classifierFailure = ex;
            return false;
        }
    }
}
