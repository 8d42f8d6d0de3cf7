using Microsoft.Extensions.Logging;

namespace JobDedup.Telemetry;

/// <summary>Log events of the engine. Event ids are stable; keys may appear, payloads never do.</summary>
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Warning, "Deduplicator {Deduplicator}: attempt {Attempt} for key {Key} failed; retrying in {Delay}.")]
    public static partial void AttemptFailed(ILogger logger, string deduplicator, string key, int attempt, TimeSpan delay, Exception? exception);

    [LoggerMessage(1002, LogLevel.Error, "Deduplicator {Deduplicator}: job {Key} failed after {Attempts} attempt(s); {Waiters} caller(s) get the failure.")]
    public static partial void FlightFailed(ILogger logger, string deduplicator, string key, int attempts, int waiters, Exception exception);

    [LoggerMessage(1003, LogLevel.Information, "Deduplicator {Deduplicator}: the leader of key {Key} left; the oldest caller still waiting leads attempt {Attempt}.")]
    public static partial void LeaderElected(ILogger logger, string deduplicator, string key, int attempt);

    [LoggerMessage(1004, LogLevel.Debug, "Deduplicator {Deduplicator}: every caller of key {Key} left; its handler is canceled.")]
    public static partial void FlightAbandoned(ILogger logger, string deduplicator, string key);

    [LoggerMessage(1005, LogLevel.Error, "Deduplicator {Deduplicator}: the dispatcher could not place a job for key {Key}; the caller gets a failed outcome.")]
    public static partial void DispatchFailed(ILogger logger, string deduplicator, string key, Exception exception);

    [LoggerMessage(1006, LogLevel.Error, "Deduplicator {Deduplicator}: the dispatcher loop failed and restarts.")]
    public static partial void DispatcherLoopFailed(ILogger logger, string deduplicator, Exception exception);

    [LoggerMessage(1007, LogLevel.Error, "Deduplicator {Deduplicator}: could not keep the outcome of key {Key} for the dedupe window; a late duplicate may run again.")]
    public static partial void OutcomeSaveFailed(ILogger logger, string deduplicator, string key, Exception exception);

    [LoggerMessage(1008, LogLevel.Error, "Deduplicator {Deduplicator}: could not forget key {Key} in the dedupe window.")]
    public static partial void OutcomeRemoveFailed(ILogger logger, string deduplicator, string key, Exception exception);

    [LoggerMessage(1009, LogLevel.Information, "Deduplicator {Deduplicator} is stopping: {Running} handler(s) running, {Waiting} flight(s) waiting for a slot are canceled.")]
    public static partial void Stopping(ILogger logger, string deduplicator, int running, int waiting);

    [LoggerMessage(1010, LogLevel.Warning, "Deduplicator {Deduplicator}: {Running} handler(s) still running after the shutdown timeout are canceled; their callers get a canceled outcome.")]
    public static partial void ShutdownTimedOut(ILogger logger, string deduplicator, int running);

    [LoggerMessage(1011, LogLevel.Information, "Deduplicator {Deduplicator} stopped.")]
    public static partial void Stopped(ILogger logger, string deduplicator);

    [LoggerMessage(1012, LogLevel.Warning, "Deduplicator {Deduplicator}: a handler for key {Key} kept running after its attempt was canceled; it is left behind and its result ignored.")]
    public static partial void HandlerLeftBehind(ILogger logger, string deduplicator, string key);

    [LoggerMessage(1013, LogLevel.Warning, "Deduplicator {Deduplicator}: the claim on key {Key} (fencing token {FencingToken}) lapsed and another instance took the key; this run's outcome is not kept.")]
    public static partial void ClaimLost(ILogger logger, string deduplicator, string key, long fencingToken);

    [LoggerMessage(1014, LogLevel.Warning, "Deduplicator {Deduplicator}: could not renew the claim on key {Key}; trying again at the next third of the lease.")]
    public static partial void ClaimRenewFailed(ILogger logger, string deduplicator, string key, Exception exception);

    [LoggerMessage(1015, LogLevel.Warning, "Deduplicator {Deduplicator}: could not release the claim on key {Key}; it lapses when its lease ends.")]
    public static partial void ClaimReleaseFailed(ILogger logger, string deduplicator, string key, Exception exception);

    [LoggerMessage(1016, LogLevel.Error, "Deduplicator {Deduplicator}: the outcome store is unavailable; calls to it pause for {BreakDuration} and jobs that need it end as Unavailable without running.")]
    public static partial void StoreOpened(ILogger logger, string deduplicator, TimeSpan breakDuration, Exception? exception);

    [LoggerMessage(1017, LogLevel.Information, "Deduplicator {Deduplicator}: testing the outcome store with one call.")]
    public static partial void StoreHalfOpened(ILogger logger, string deduplicator);

    [LoggerMessage(1018, LogLevel.Information, "Deduplicator {Deduplicator}: the outcome store answers again; jobs run again.")]
    public static partial void StoreClosed(ILogger logger, string deduplicator);

    [LoggerMessage(1019, LogLevel.Debug, "Deduplicator {Deduplicator}: job {Key} did not run: the outcome store is unavailable.")]
    public static partial void FlightUnavailable(ILogger logger, string deduplicator, string key);

    [LoggerMessage(1020, LogLevel.Debug, "Deduplicator {Deduplicator}: could not keep the outcome of key {Key} in the store yet; it is kept here and the store is tried again.")]
    public static partial void OutcomeKeptLocally(ILogger logger, string deduplicator, string key);

    [LoggerMessage(1021, LogLevel.Debug, "Deduplicator {Deduplicator}: the outcome of key {Key} is now in the store after {Tries} tries.")]
    public static partial void OutcomeMadeDurable(ILogger logger, string deduplicator, string key, int tries);

    [LoggerMessage(1022, LogLevel.Warning, "Deduplicator {Deduplicator}: {Count} outcome(s) never reached the outcome store ({Reason}); those keys may run again elsewhere: {Keys}.")]
    public static partial void OutcomesNotDurable(ILogger logger, string deduplicator, int count, string reason, string keys);

    [LoggerMessage(1023, LogLevel.Warning, "Deduplicator {Deduplicator}: the outcome store is still unavailable ({Reason}); calls to it pause for another {BreakDuration}.")]
    public static partial void StoreStillOpen(ILogger logger, string deduplicator, string reason, TimeSpan breakDuration);

    [LoggerMessage(1030, LogLevel.Warning, "Deduplicator {Deduplicator}: key {Key} is taken over (fencing token {FencingToken}) from owner {PreviousOwner}, whose claim was neither completed nor released; that run may have done part of the work.")]
    public static partial void ClaimTakenOver(ILogger logger, string deduplicator, string key, long fencingToken, string previousOwner);

    [LoggerMessage(1031, LogLevel.Warning, "Deduplicator {Deduplicator}: the claim on key {Key} (fencing token {FencingToken}) was lost while its handler ran; the handler is canceled and its outcome is not kept.")]
    public static partial void ClaimLostWhileRunning(ILogger logger, string deduplicator, string key, long fencingToken, Exception? exception);

    [LoggerMessage(1040, LogLevel.Error, "Deduplicator {Deduplicator}: the retention classifier threw for key {Key}; its outcome is not kept in the dedupe window.")]
    public static partial void RetentionClassifierFailed(ILogger logger, string deduplicator, string key, Exception exception);

    [LoggerMessage(1041, LogLevel.Error, "Deduplicator {Deduplicator}: the fingerprint function threw for key {Key}; the job fails without running.")]
    public static partial void FingerprintFailed(ILogger logger, string deduplicator, string key, Exception exception);
}
