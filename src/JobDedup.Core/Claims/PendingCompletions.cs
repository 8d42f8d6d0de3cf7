using System.Collections.Concurrent;
using JobDedup.Internal;
using JobDedup.Telemetry;

namespace JobDedup.Claims;

/// <summary>
/// Kept outcomes (successes, and failures the retention policy keeps) whose completion the claiming store did not take (it failed or was down). Each is kept here,
/// so that duplicates arriving in this process get it instead of running the key again, while its completion is
/// tried again with backoff, fenced by its claim, and its lease renewed meanwhile. It leaves when the outcome is in
/// the store, when the store refuses it (a newer claim owns the key), when the key is forgotten, when the dedupe
/// window would have dropped it anyway, or at shutdown.
/// </summary>
internal sealed class PendingCompletions<TResult> : IDisposable
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>At most this many keys are named in the shutdown log line.</summary>
    private const int KeysNamed = 20;

    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly ClaimSettings _settings;
    private readonly TimeSpan _longestDelay;
    private readonly EngineLog _log;
    private readonly CancellationTokenSource _stopping = new();

    public PendingCompletions(ClaimSettings settings, TimeSpan longestDelay, EngineLog log)
    {
        _settings = settings;
        _longestDelay = longestDelay < FirstDelay ? FirstDelay : longestDelay;
        _log = log;
    }

    public int Count => _pending.Count;

    /// <summary>Gets the outcome kept for a key, when its completion is still pending.</summary>
    public StoredOutcome<TResult>? TryGet(string key) => _pending.TryGetValue(key, out var pending) ? pending.Outcome : null;

    /// <summary>Keeps an outcome whose first completion failed, and starts trying it again. Call before delivering the outcome.</summary>
    /// <param name="claim">The claim the outcome completes.</param>
    /// <param name="outcome">The outcome.</param>
    /// <param name="retention">How long the window keeps it; it is tried no longer than that.</param>
    public void Keep(ClaimSession<TResult> claim, StoredOutcome<TResult> outcome, TimeSpan retention)
    {
        var pending = new Pending(claim, outcome, retention, CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
        _pending[claim.Key] = pending;
        _log.Write(static (logger, name, key) => Log.OutcomeKeptLocally(logger, name, key), claim.Key);
        pending.Retrying = RetryAsync(pending);
    }

    /// <summary>Drops the kept outcome of a key and stops completing it (the store fences a completion already on its way).</summary>
    public void Forget(string key)
    {
        if (_pending.TryRemove(key, out var pending))
        {
            pending.Stop();
        }
    }

    /// <summary>Drops every kept outcome.</summary>
    public void ForgetAll()
    {
        foreach (var key in _pending.Keys)
        {
            Forget(key);
        }
    }

    /// <summary>
    /// Waits for the pending completions to land, for at most <paramref name="timeout"/>; then stops the rest and logs
    /// which keys never reached the store.
    /// </summary>
    public async Task DrainAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var waiting = _pending.Values.Select(p => p.Retrying).ToList();
        if (waiting.Count > 0)
        {
            try
            {
                await TaskEnd.WhenAllEnded(waiting).WaitAsync(timeout, _settings.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
            {
                // Out of time: what is still pending is given up below.
            }
        }

        GiveUp(_pending.Keys.ToList(), "the deduplicator stopped");
    }

    public void Dispose()
    {
        ForgetAll();
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private void GiveUp(List<string> keys, string reason)
    {
        var given = new List<string>();
        foreach (var key in keys)
        {
            if (_pending.TryRemove(key, out var pending))
            {
                pending.Stop();
                given.Add(key);
            }
        }

        if (given.Count > 0)
        {
            var named = string.Join(", ", given.Take(KeysNamed)) + (given.Count > KeysNamed ? ", …" : string.Empty);
            _log.Write(static (logger, name, s) => Log.OutcomesNotDurable(logger, name, s.Count, s.reason, s.named), (given.Count, reason, named));
        }
    }

    private async Task RetryAsync(Pending pending)
    {
        var time = _settings.TimeProvider;
        var claim = pending.Claim;
        var token = pending.Token;
        var delay = FirstDelay;
        var tries = 1;

        // The lease was last renewed at most one renewal interval ago: renew at the first failed retry.
        var renewedAt = time.GetUtcNow() - _settings.RenewInterval;
        var endsAt = pending.Outcome.CompletedAt + pending.Retention;
        try
        {
            while (true)
            {
                await Task.Delay(delay, time, token).ConfigureAwait(false);
                tries++;
                var result = await claim.TryCompleteAgainAsync(pending.Outcome, pending.Retention, token).ConfigureAwait(false);
                if (result == ClaimCompletion.Completed)
                {
                    _log.Write(static (logger, name, s) => Log.OutcomeMadeDurable(logger, name, s.Key, s.tries), (claim.Key, tries));
                    break;
                }

                if (result == ClaimCompletion.Refused)
                {
                    break; // logged by the claim
                }

                var now = time.GetUtcNow();
                if (now >= endsAt)
                {
                    Remove(pending);
                    _log.Write(
                        static (logger, name, key) => Log.OutcomesNotDurable(logger, name, 1, "its dedupe window ended first", key),
                        claim.Key);
                    return;
                }

                if (now - renewedAt >= _settings.RenewInterval && !await TryRenewAsync(claim, token).ConfigureAwait(false))
                {
                    _log.Write(static (logger, name, s) => Log.ClaimLost(logger, name, s.Key, s.FencingToken), (claim.Key, claim.FencingToken));
                    break;
                }

                renewedAt = now;
                delay = delay * 2 < _longestDelay ? delay * 2 : _longestDelay;
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Forgotten, or given up at shutdown.
            return;
        }
        catch (Exception)
        {
            // Never escapes; the outcome stays only as long as the window would have kept it.
        }

        Remove(pending);
    }

    /// <returns><see langword="false"/> only when the store says the claim is lost; a failure to reach it is not a loss.</returns>
    private static async Task<bool> TryRenewAsync(ClaimSession<TResult> claim, CancellationToken cancellationToken)
    {
        try
        {
            return await claim.RenewOnceAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OutcomeStoreUnavailableException)
        {
            return true;
        }
    }

    private void Remove(Pending pending)
    {
        _pending.TryRemove(KeyValuePair.Create(pending.Claim.Key, pending));
        pending.Stop();
    }

    private sealed class Pending(ClaimSession<TResult> claim, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationTokenSource stop)
    {
        public ClaimSession<TResult> Claim { get; } = claim;

        public StoredOutcome<TResult> Outcome { get; } = outcome;

        public TimeSpan Retention { get; } = retention;

        public CancellationToken Token { get; } = stop.Token;

        public Task Retrying { get; set; } = Task.CompletedTask;

        public void Stop()
        {
            try
            {
                stop.Cancel();
                stop.Dispose();
            }
            catch (ObjectDisposedException)
            {
                // Stopped already.
            }
        }
    }
}
