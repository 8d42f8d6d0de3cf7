namespace JobDedup.Testing;

/// <summary>
/// A claiming outcome store kept in memory, for testing the engine's side of claims (the durable one is tested against
/// PostgreSQL). Leases and retention run on the given clock. It keeps each claim's payload fingerprint (reported to a
/// caller that finds the key busy) and every outcome as given, fingerprint and kept failure included. It is what <see cref="ScriptableOutcomeStore{TResult}"/>
/// passes its calls through to unless it wraps another store.
/// </summary>
public sealed class MemoryClaimingStore<TResult>(TimeProvider clock) : IClaimingOutcomeStore<TResult>
{
    private readonly Dictionary<(string Scope, string Key), Entry> _entries = [];
    private readonly Lock _sync = new();
    private readonly HashSet<string> _deadOwners = new(StringComparer.Ordinal);
    private long _nextToken;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Gets a value indicating whether a busy key's claim reports the fingerprint it was made with; <see langword="false"/>
    /// plays a store that keeps no claim fingerprints (the kept outcome still carries its own).
    /// </summary>
    public bool ReportsClaimFingerprints { get; init; } = true;

    public ValueTask<OutcomeClaim<TResult>> TryClaimAsync(string scope, string key, string owner, string? fingerprint, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        lock (_sync)
        {
            if (_entries.TryGetValue((scope, key), out var entry))
            {
                if (entry.Outcome is { } done && entry.ExpiresAt > now)
                {
                    return new(OutcomeClaim.Completed(done));
                }

                if (entry.Outcome is null && entry.LeaseExpiresAt > now && !_deadOwners.Contains(entry.Owner))
                {
                    return new(OutcomeClaim.Busy<TResult>(entry.LeaseExpiresAt) with { Fingerprint = ReportsClaimFingerprints ? entry.Fingerprint : null });
                }
            }

            // A claim replaced while still claimed (lapsed, or its owner dead) is a takeover; a kept outcome is not.
            var takesOver = entry is { Outcome: null };
            var token = ++_nextToken;
            _entries[(scope, key)] = new Entry(token, now + lease, null, DateTimeOffset.MinValue, owner, fingerprint);
            return new(OutcomeClaim.Claimed<TResult>(token, takesOver, takesOver ? entry!.Owner : null));
        }
    }

    public ValueTask<bool> RenewAsync(string scope, string key, long fencingToken, TimeSpan lease, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            if (_entries.TryGetValue((scope, key), out var entry) && entry.Token == fencingToken && entry.Outcome is null)
            {
                _entries[(scope, key)] = entry with { LeaseExpiresAt = clock.GetUtcNow() + lease };
                return new(true);
            }

            return new(false);
        }
    }

    public ValueTask<bool> CompleteAsync(string scope, string key, long fencingToken, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            if (!_entries.TryGetValue((scope, key), out var entry) || entry.Token != fencingToken || entry.Outcome is not null)
            {
                return new(false);
            }

            _entries[(scope, key)] = entry with { Outcome = outcome, ExpiresAt = clock.GetUtcNow() + retention };
            Changed();
            return new(true);
        }
    }

    public ValueTask ReleaseAsync(string scope, string key, long fencingToken, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            if (_entries.TryGetValue((scope, key), out var entry) && entry.Token == fencingToken && entry.Outcome is null)
            {
                _entries.Remove((scope, key));
                Changed();
            }
        }

        return default;
    }

    public async ValueTask<StoredOutcome<TResult>?> WaitForOutcomeAsync(string scope, string key, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_sync)
            {
                var now = clock.GetUtcNow();
                if (!_entries.TryGetValue((scope, key), out var entry) ||
                    (entry.Outcome is null && (entry.LeaseExpiresAt <= now || _deadOwners.Contains(entry.Owner))))
                {
                    return null;
                }

                if (entry.Outcome is { } done)
                {
                    return done;
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    public ValueTask<StoredOutcome<TResult>?> TryGetAsync(string scope, string key, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            return new(_entries.TryGetValue((scope, key), out var entry) && entry.Outcome is { } done && entry.ExpiresAt > clock.GetUtcNow() ? done : null);
        }
    }

    /// <summary>Keeps an outcome outside any claim, as a plain (non-claiming) store does.</summary>
    public ValueTask SaveAsync(string scope, string key, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            var token = _entries.TryGetValue((scope, key), out var entry) ? entry.Token : 0;
            _entries[(scope, key)] = new Entry(token, DateTimeOffset.MinValue, outcome, clock.GetUtcNow() + retention, string.Empty);
            Changed();
        }

        return default;
    }

    public ValueTask RemoveAsync(string scope, string key, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            _entries.Remove((scope, key));
            Changed();
        }

        return default;
    }

    public ValueTask ClearAsync(string scope, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            foreach (var entry in _entries.Keys.Where(k => k.Scope == scope).ToList())
            {
                _entries.Remove(entry);
            }

            Changed();
        }

        return default;
    }

    /// <summary>
    /// Marks an owner dead, as a durable store does when the owner's process is gone: its claims may be taken over at
    /// once, whatever their leases say, and its waiters re-check.
    /// </summary>
    /// <param name="owner">The owner, as passed to <see cref="TryClaimAsync"/>.</param>
    public void KillOwner(string owner)
    {
        lock (_sync)
        {
            _deadOwners.Add(owner);
            Changed();
        }
    }

    /// <summary>Gets who made the claim on a key now held or kept, or <see langword="null"/> when there is none.</summary>
    /// <param name="scope">The deduplicator's name.</param>
    /// <param name="key">The key.</param>
    /// <returns>The owner.</returns>
    public string? OwnerOf(string scope, string key)
    {
        lock (_sync)
        {
            return _entries.TryGetValue((scope, key), out var entry) ? entry.Owner : null;
        }
    }

    /// <summary>Lets a waiter re-check after a lease lapses on the clock (a real store polls).</summary>
    public void Poke()
    {
        lock (_sync)
        {
            Changed();
        }
    }

    private void Changed()
    {
        _changed.TrySetResult();
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record Entry(
        long Token,
        DateTimeOffset LeaseExpiresAt,
        StoredOutcome<TResult>? Outcome,
        DateTimeOffset ExpiresAt,
        string Owner,
        string? Fingerprint = null);
}
