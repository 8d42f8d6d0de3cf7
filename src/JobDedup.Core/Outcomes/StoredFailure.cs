namespace JobDedup;

/// <summary>A failure kept in the dedupe window (see <see cref="JobDedupOptions{TJob}.Retention"/>), as a durable store can hold it.</summary>
/// <param name="ExceptionType">The full name of the exception type the final attempt threw.</param>
/// <param name="Message">The exception's message.</param>
public sealed record StoredFailure(string ExceptionType, string Message);
