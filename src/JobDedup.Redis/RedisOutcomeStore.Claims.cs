using JobDedup.Redis.Store;
using StackExchange.Redis;

namespace JobDedup;

/// <content>Claims: take a key, renew its lease, complete or release it under its fencing token, wait on another's claim.</content>
public sealed partial class RedisOutcomeStore<TResult>
{
    private long _waitReads;

    /// <summary>Gets how many times waiters found a key still held by another claim and went on waiting (for tests).</summary>
    internal long WaitReads => Interlocked.Read(ref _waitReads);

    /// <summary>Gets how many keys callers wait on now (for tests).</summary>
    internal int Waiters => _waiters.Count;

    private long HeartbeatMilliseconds => _heartbeat?.TimeToLiveMilliseconds ?? 0;

    /// <inheritdoc/>
    public async ValueTask<OutcomeClaim<TResult>> TryClaimAsync(string scope, string key, string owner, string? fingerprint, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        var scopePart = StoreKeys.Part(scope);
        var reply = (RedisResult[])(await RunAsync(
            StoreScripts.Claim,
            scopePart,
            [
                _keys.RecordPrefix(scopePart), StoreKeys.Part(key), owner, Milliseconds(lease), Milliseconds(_options.ExpiredClaimRetention),
                HeartbeatKey, HeartbeatMilliseconds, Optional(fingerprint),
            ],
            cancellationToken).ConfigureAwait(false))!;
        return (string?)reply[0] switch
        {
            "claimed" => OutcomeClaim.Claimed<TResult>((long)reply[1], (long)reply[2] == 1, (string?)reply[3] is { Length: > 0 } previous ? previous : null),
            "busy" => OutcomeClaim.Busy<TResult>(DateTimeOffset.FromUnixTimeMilliseconds((long)reply[1])) with { Fingerprint = (string?)reply[2] },
            _ => OutcomeClaim.Completed(ReadOutcome(reply, 1, scope, key)),
        };
    }

    /// <inheritdoc/>
    public async ValueTask<bool> RenewAsync(string scope, string key, long fencingToken, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        var scopePart = StoreKeys.Part(scope);
        var renewed = await RunAsync(
            StoreScripts.Renew,
            scopePart,
            [_keys.RecordPrefix(scopePart), StoreKeys.Part(key), fencingToken, Milliseconds(lease), Milliseconds(_options.ExpiredClaimRetention), HeartbeatKey, HeartbeatMilliseconds],
            cancellationToken).ConfigureAwait(false);
        return (long)renewed == 1;
    }

    /// <inheritdoc/>
    public async ValueTask<bool> CompleteAsync(string scope, string key, long fencingToken, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (retention <= TimeSpan.Zero)
        {
            // Nothing to keep: the claim just ends, so that the next caller runs the key.
            return await ReleaseCoreAsync(scope, key, fencingToken, cancellationToken).ConfigureAwait(false);
        }

        var scopePart = StoreKeys.Part(scope);
        var keyPart = StoreKeys.Part(key);
        var fields = OutcomeFields(outcome);
        var kept = await RunAsync(
            StoreScripts.Complete,
            scopePart,
            [
                _keys.RecordPrefix(scopePart), keyPart, fencingToken, fields.Value, outcome.Attempts,
                Ticks(outcome.CompletedAt), Milliseconds(retention), _keys.ChannelName, StoreKeys.KeyMessage(scopePart, keyPart),
                fields.Fingerprint, fields.FailureType, fields.FailureMessage,
            ],
            cancellationToken).ConfigureAwait(false);
        return (long)kept == 1;
    }

    /// <inheritdoc/>
    public async ValueTask ReleaseAsync(string scope, string key, long fencingToken, CancellationToken cancellationToken) =>
        await ReleaseCoreAsync(scope, key, fencingToken, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public async ValueTask<StoredOutcome<TResult>?> WaitForOutcomeAsync(string scope, string key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        var token = linked.Token;
        var scopePart = StoreKeys.Part(scope);
        var keyPart = StoreKeys.Part(key);
        var message = StoreKeys.KeyMessage(scopePart, keyPart);
        try
        {
            while (true)
            {
                // Registered before the read: whatever completes after it wakes this wait.
                using var waiting = _waiters.Register(message);
                var reply = (RedisResult[])(await RunAsync(StoreScripts.Inspect, scopePart, [_keys.RecordPrefix(scopePart), keyPart], token).ConfigureAwait(false))!;
                switch ((string?)reply[0])
                {
                    case "done":
                        return ReadOutcome(reply, 1, scope, key);
                    case "free":
                        return null;
                }

                Interlocked.Increment(ref _waitReads);

                // Read again on a message, at the poll interval, or just after the lease lapses, whichever is first.
                var wait = TimeSpan.FromMilliseconds((long)reply[2] + 20);
                if (wait > _options.PollInterval)
                {
                    wait = _options.PollInterval;
                }

                try
                {
                    await waiting.Arrived.WaitAsync(wait, _timeProvider, token).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // Poll.
                }
            }
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ObjectDisposedException(GetType().Name, "The outcome store was disposed while a caller waited on a claim.");
        }
    }

    private async Task<bool> ReleaseCoreAsync(string scope, string key, long fencingToken, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        ArgumentException.ThrowIfNullOrEmpty(key);
        var scopePart = StoreKeys.Part(scope);
        var keyPart = StoreKeys.Part(key);
        var released = await RunAsync(
            StoreScripts.Release,
            scopePart,
            [_keys.RecordPrefix(scopePart), keyPart, fencingToken, _keys.ChannelName, StoreKeys.KeyMessage(scopePart, keyPart)],
            cancellationToken).ConfigureAwait(false);
        return (long)released == 1;
    }
}
