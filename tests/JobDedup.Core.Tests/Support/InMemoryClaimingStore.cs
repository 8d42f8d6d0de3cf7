namespace JobDedup.Core.Tests.Support;

/// <summary>
/// A claiming store kept in memory, for testing the engine's side of claims (the real, durable one is tested against
/// PostgreSQL). Leases run on the given clock; every call is counted.
/// </summary>
public sealed class InMemoryClaimingStore<TResult>(TimeProvider clock) : IClaimingOutcomeStore<TResult>
{
    private readonly Dictionary<(string, string), Entry> _entries = [];
    private readonly Lock _sync = new();
    private long _nextToken;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Renewals { get; private set; }

    public int Releases { get; private set; }

    private int _waits;

    /// <summary>Gets how many times a caller began to wait on another claim.</summary>
    public int Waits => Volatile.Read(ref _waits);

    public ValueTask<OutcomeClaim<TResult>> TryClaimAsync(string scope, string key, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        lock (_sync)
        {
            if (_entries.TryGetValue((scope, key), out var entry))
            {
                if (entry.Outcome is { } done && entry.ExpiresAt > now)
                {
                    return new(OutcomeClaim.Done(done));
                }

                if (entry.Outcome is null && entry.LeaseExpiresAt > now)
                {
                    return new(OutcomeClaim.HeldElsewhere<TResult>(entry.LeaseExpiresAt));
                }
            }

            var token = ++_nextToken;
            _entries[(scope, key)] = new Entry(token, now + lease, null, DateTimeOffset.MinValue);
            return new(OutcomeClaim.Granted<TResult>(token));
        }
    }

    public ValueTask<bool> RenewAsync(string scope, string key, long fencingToken, TimeSpan lease, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            Renewals++;
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
            Releases++;
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
        Interlocked.Increment(ref _waits);
        while (true)
        {
            Task changed;
            lock (_sync)
            {
                var now = clock.GetUtcNow();
                if (!_entries.TryGetValue((scope, key), out var entry) || (entry.Outcome is null && entry.LeaseExpiresAt <= now))
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

    public ValueTask SaveAsync(string scope, string key, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("A claiming store is completed under a claim, never saved directly.");

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
            foreach (var entry in _entries.Keys.Where(k => k.Item1 == scope).ToList())
            {
                _entries.Remove(entry);
            }

            Changed();
        }

        return default;
    }

    /// <summary>Lets a waiter re-check after the lease lapses on the clock (a real store polls).</summary>
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

    private sealed record Entry(long Token, DateTimeOffset LeaseExpiresAt, StoredOutcome<TResult>? Outcome, DateTimeOffset ExpiresAt);
}
