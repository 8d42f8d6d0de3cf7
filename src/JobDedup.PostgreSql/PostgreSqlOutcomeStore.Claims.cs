using JobDedup.PostgreSql.Notifications;
using Npgsql;

namespace JobDedup;

/// <content>Claims: take a key, renew its lease, complete or release it under its fencing token, wait on another's claim.</content>
public sealed partial class PostgreSqlOutcomeStore<TResult>
{
    // When the claim takes nothing, the row is read to tell a kept outcome from a live claim. Only a row deleted in
    // between (released, removed, cleaned up) sends the claim round again.
    private const int MaxClaimRounds = 5;

    private long _waitReads;

    /// <summary>Gets how many times waiters found a key still held by another claim and went on waiting (for tests).</summary>
    internal long WaitReads => Interlocked.Read(ref _waitReads);

    /// <inheritdoc/>
    public async ValueTask<OutcomeClaim<TResult>> TryClaimAsync(string scope, string key, string owner, string? fingerprint, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);

        DateTimeOffset? lastLease = null;
        string? lastFingerprint = null;
        for (var round = 0; round < MaxClaimRounds; round++)
        {
            var command = _dataSource.CreateCommand(_sql.Claim);
            await using (command.ConfigureAwait(false))
            {
                AddKey(command.Parameters, scope, key);
                AddKeyText(command.Parameters, key);
                command.Parameters.Add(new NpgsqlParameter<string>("owner", owner));
                AddInstance(command.Parameters);
                command.Parameters.Add(Interval("lease", lease));
                command.Parameters.Add(Interval("keep", _options.ExpiredClaimRetention));
                AddFingerprint(command.Parameters, fingerprint);
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var token = reader.GetInt64(0);
                        var takenOverFrom = reader.IsDBNull(1) ? null : reader.GetString(1);
                        return OutcomeClaim.Claimed<TResult>(token, takenOverFrom is not null, takenOverFrom is { Length: > 0 } ? takenOverFrom : null);
                    }
                }
            }

            var state = await InspectAsync(scope, key, cancellationToken).ConfigureAwait(false);
            if (state.Outcome is { } kept)
            {
                return OutcomeClaim.Completed(kept);
            }

            if (state.Held)
            {
                return OutcomeClaim.Busy<TResult>(state.LeaseExpiresAt!.Value) with { Fingerprint = state.Fingerprint };
            }

            if (state.LeaseExpiresAt is { } seen)
            {
                // The claim seen last, lease and fingerprint together.
                lastLease = seen;
                lastFingerprint = state.Fingerprint;
            }
        }

        // The key kept changing under us: report it busy; the caller's wait sees it free and claims again.
        return OutcomeClaim.Busy<TResult>(lastLease ?? _timeProvider.GetUtcNow()) with { Fingerprint = lastFingerprint };
    }

    /// <inheritdoc/>
    public async ValueTask<bool> RenewAsync(string scope, string key, long fencingToken, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);

        var command = _dataSource.CreateCommand(_sql.Renew);
        await using (command.ConfigureAwait(false))
        {
            AddKey(command.Parameters, scope, key);
            command.Parameters.Add(new NpgsqlParameter<long>("token", fencingToken));
            AddInstance(command.Parameters);
            command.Parameters.Add(Interval("lease", lease));
            command.Parameters.Add(Interval("keep", _options.ExpiredClaimRetention));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }
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

        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var command = _dataSource.CreateCommand(_sql.Complete);
        await using (command.ConfigureAwait(false))
        {
            AddKey(command.Parameters, scope, key);
            command.Parameters.Add(new NpgsqlParameter<long>("token", fencingToken));
            AddOutcome(command.Parameters, outcome);
            command.Parameters.Add(Interval("retention", retention));
            AddNotification(command.Parameters, NotificationListener.Payload(scope, key));
            return await ChangedAsync(command, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask ReleaseAsync(string scope, string key, long fencingToken, CancellationToken cancellationToken) =>
        await ReleaseCoreAsync(scope, key, fencingToken, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public async ValueTask<StoredOutcome<TResult>?> WaitForOutcomeAsync(string scope, string key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        ArgumentException.ThrowIfNullOrEmpty(key);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        var token = linked.Token;
        using var watch = _listener.Watch(NotificationListener.Payload(scope, key));
        try
        {
            // Once LISTEN is in place, whatever completes after the read below is notified: nothing falls in between.
            await _listener.EnsureStartedAsync(_options.PollInterval, token).ConfigureAwait(false);
            while (true)
            {
                var changed = watch.Changed;
                var state = await InspectAsync(scope, key, token).ConfigureAwait(false);
                if (state.Outcome is { } kept)
                {
                    return kept;
                }

                if (!state.Held)
                {
                    return null; // free: no row, released, lapsed, or an expired outcome
                }

                Interlocked.Increment(ref _waitReads);

                // Read again on a notification, at the poll interval, or just after the lease lapses, whichever is first.
                var wait = state.LeaseLeft + TimeSpan.FromMilliseconds(20);
                if (wait > _options.PollInterval)
                {
                    wait = _options.PollInterval;
                }

                try
                {
                    await changed.WaitAsync(wait, _timeProvider, token).ConfigureAwait(false);
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

    /// <summary>The instance a claim is recorded under: this store's, while it holds its lock; none otherwise.</summary>
    private void AddInstance(NpgsqlParameterCollection parameters) =>
        parameters.Add(new NpgsqlParameter("instance", NpgsqlTypes.NpgsqlDbType.Integer) { Value = (object?)_instanceLock?.Current ?? DBNull.Value });

    private async Task<bool> ReleaseCoreAsync(string scope, string key, long fencingToken, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        ArgumentException.ThrowIfNullOrEmpty(key);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);

        var command = _dataSource.CreateCommand(_sql.Release);
        await using (command.ConfigureAwait(false))
        {
            AddKey(command.Parameters, scope, key);
            command.Parameters.Add(new NpgsqlParameter<long>("token", fencingToken));
            AddNotification(command.Parameters, NotificationListener.Payload(scope, key));
            return await ChangedAsync(command, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<KeyState> InspectAsync(string scope, string key, CancellationToken cancellationToken)
    {
        var command = _dataSource.CreateCommand(_sql.Inspect);
        await using (command.ConfigureAwait(false))
        {
            AddKey(command.Parameters, scope, key);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadKeyState(reader, scope, key) : default;
            }
        }
    }

    /// <summary>
    /// Reads a row of <c>Inspect</c>: kept, held, lease_expires_at, lease_left, then the outcome's columns (outcome,
    /// attempts, completed_at, fingerprint, failure_type, failure_message).
    /// </summary>
    private KeyState ReadKeyState(NpgsqlDataReader reader, string scope, string key)
    {
        var kept = reader.GetBoolean(0);
        var held = reader.GetBoolean(1);
        DateTimeOffset? leaseExpiresAt = reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2);
        var leaseLeft = reader.IsDBNull(3) ? TimeSpan.Zero : reader.GetFieldValue<TimeSpan>(3);
        StoredOutcome<TResult>? outcome = kept ? ReadOutcome(reader, 4, scope, key) : null;
        var fingerprint = reader.IsDBNull(7) ? null : reader.GetString(7);
        return new KeyState(held, leaseExpiresAt, leaseLeft, outcome, fingerprint);
    }

    /// <summary>
    /// What holds a key: a kept outcome, a live claim (until its lease lapses), or nothing (the default); with the
    /// fingerprint of the claim or the outcome on the row.
    /// </summary>
    private readonly record struct KeyState(bool Held, DateTimeOffset? LeaseExpiresAt, TimeSpan LeaseLeft, StoredOutcome<TResult>? Outcome, string? Fingerprint);
}
