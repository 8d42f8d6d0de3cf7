using System.Runtime.ExceptionServices;

namespace JobDedup;

/// <summary>
/// The result of one job for one caller: the shared value or exception, and how the caller got it.
/// Failures travel in the outcome; only <see cref="GetValueOrThrow"/> throws.
/// </summary>
/// <typeparam name="TResult">The handler's result type.</typeparam>
public readonly struct JobOutcome<TResult> : IEquatable<JobOutcome<TResult>>
{
    internal JobOutcome(JobStatus status, TResult? value, Exception? exception, JobRole role, int attempts, string key)
    {
        Status = status;
        Value = value;
        Exception = exception;
        Role = role;
        Attempts = attempts;
        Key = key;
    }

    /// <summary>Gets how the job ended.</summary>
    public JobStatus Status { get; }

    /// <summary>Gets the handler's value when <see cref="Status"/> is <see cref="JobStatus.Succeeded"/>; otherwise the default.</summary>
    public TResult? Value { get; }

    /// <summary>Gets the exception of the final attempt (Failed), the cancellation (Canceled), the refusal (Rejected) or the store's absence (Unavailable).</summary>
    public Exception? Exception { get; }

    /// <summary>Gets whether this caller led the flight, joined it, or got a replayed outcome.</summary>
    public JobRole Role { get; }

    /// <summary>Gets how many handler attempts the flight made (for a replay, those of the original run).</summary>
    public int Attempts { get; }

    /// <summary>Gets the dedupe key of the job.</summary>
    public string Key { get; }

    /// <summary>Gets a value indicating whether the handler's value is available.</summary>
    public bool IsSucceeded => Status == JobStatus.Succeeded;

    /// <summary>Gets a value indicating whether this caller received an outcome produced for another caller (joined or replayed).</summary>
    public bool IsShared => Role is JobRole.Joined or JobRole.Replayed;

    /// <summary>Returns the value, or throws the original exception with its stack trace.</summary>
    /// <returns>The handler's value.</returns>
    public TResult GetValueOrThrow()
    {
        if (Status == JobStatus.Succeeded)
        {
            return Value!;
        }

        if (Exception is not null)
        {
            ExceptionDispatchInfo.Throw(Exception);
        }

        throw new InvalidOperationException($"The job ended with status {Status} and carries no exception.");
    }

    internal JobOutcome<TResult> WithRole(JobRole role) => new(Status, Value, Exception, role, Attempts, Key);

    internal static JobOutcome<TResult> Succeeded(string key, TResult value, JobRole role, int attempts) =>
        new(JobStatus.Succeeded, value, null, role, attempts, key);

    internal static JobOutcome<TResult> Failed(string key, Exception exception, JobRole role, int attempts) =>
        new(JobStatus.Failed, default, exception, role, attempts, key);

    internal static JobOutcome<TResult> Canceled(string key, OperationCanceledException exception, JobRole role, int attempts) =>
        new(JobStatus.Canceled, default, exception, role, attempts, key);

    internal static JobOutcome<TResult> Rejected(string key, JobRejectedException exception) =>
        new(JobStatus.Rejected, default, exception, JobRole.None, 0, key);

    internal static JobOutcome<TResult> Conflict(string key, PayloadMismatchException exception) =>
        new(JobStatus.Conflict, default, exception, JobRole.None, 0, key);

    internal static JobOutcome<TResult> Unavailable(string key, OutcomeStoreUnavailableException exception) =>
        new(JobStatus.Unavailable, default, exception, JobRole.None, 0, key);

    /// <inheritdoc/>
    public bool Equals(JobOutcome<TResult> other) =>
        Status == other.Status && Role == other.Role && Attempts == other.Attempts &&
        string.Equals(Key, other.Key, StringComparison.Ordinal) &&
        EqualityComparer<TResult?>.Default.Equals(Value, other.Value) &&
        ReferenceEquals(Exception, other.Exception);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is JobOutcome<TResult> other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Status, Role, Attempts, Key, Value, Exception);

    /// <summary>Describes the outcome without its value, so that logging it never writes a payload.</summary>
    /// <returns>A short description.</returns>
    public override string ToString() =>
        Exception is null
            ? $"{Status} ({Role}, {Attempts} attempt(s)) for key '{Key}'"
            : $"{Status} ({Role}, {Attempts} attempt(s)) for key '{Key}': {Exception.GetType().Name}: {Exception.Message}";

    /// <summary>Compares two outcomes.</summary>
    /// <param name="left">The first outcome.</param>
    /// <param name="right">The second outcome.</param>
    /// <returns><see langword="true"/> when they are equal.</returns>
    public static bool operator ==(JobOutcome<TResult> left, JobOutcome<TResult> right) => left.Equals(right);

    /// <summary>Compares two outcomes.</summary>
    /// <param name="left">The first outcome.</param>
    /// <param name="right">The second outcome.</param>
    /// <returns><see langword="true"/> when they differ.</returns>
    public static bool operator !=(JobOutcome<TResult> left, JobOutcome<TResult> right) => !left.Equals(right);
}
