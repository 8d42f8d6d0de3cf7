using JobDedup.Redis.Store;
using StackExchange.Redis;

namespace JobDedup;

/// <content>The plain dedupe-window contract: read, save, remove and clear kept outcomes.</content>
public sealed partial class RedisOutcomeStore<TResult>
{
    /// <inheritdoc/>
    public async ValueTask<StoredOutcome<TResult>?> TryGetAsync(string scope, string key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        ArgumentException.ThrowIfNullOrEmpty(key);
        var scopePart = StoreKeys.Part(scope);
        var reply = (RedisResult[])(await RunAsync(StoreScripts.Inspect, scopePart, [_keys.RecordPrefix(scopePart), StoreKeys.Part(key)], cancellationToken).ConfigureAwait(false))!;
        return (string?)reply[0] == "done" ? ReadOutcome(reply, 1, scope, key) : null;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Replaces whatever holds the key, a live claim included, with a new fencing token: that claim's holder can no
    /// longer complete it. Waiters on the key are woken. A retention of zero or less keeps nothing.
    /// </remarks>
    public async ValueTask SaveAsync(string scope, string key, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (retention <= TimeSpan.Zero)
        {
            return;
        }

        var scopePart = StoreKeys.Part(scope);
        var keyPart = StoreKeys.Part(key);
        var fields = OutcomeFields(outcome);
        await RunAsync(
            StoreScripts.Save,
            scopePart,
            [
                _keys.RecordPrefix(scopePart), keyPart, fields.Value, outcome.Attempts, Ticks(outcome.CompletedAt),
                Milliseconds(retention), _keys.ChannelName, StoreKeys.KeyMessage(scopePart, keyPart),
                fields.Fingerprint, fields.FailureType, fields.FailureMessage,
            ],
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>A live claim on the key is dropped too: its holder's later writes are refused, and waiters are woken.</remarks>
    public async ValueTask RemoveAsync(string scope, string key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        ArgumentException.ThrowIfNullOrEmpty(key);
        var scopePart = StoreKeys.Part(scope);
        var keyPart = StoreKeys.Part(key);
        await RunAsync(
            StoreScripts.Remove,
            scopePart,
            [_keys.RecordPrefix(scopePart), keyPart, _keys.ChannelName, StoreKeys.KeyMessage(scopePart, keyPart)],
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>Live claims of the scope are dropped too (their holders' writes are refused), and every waiter is woken to read its key again.</remarks>
    public async ValueTask ClearAsync(string scope, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        var scopePart = StoreKeys.Part(scope);
        await RunAsync(StoreScripts.Clear, scopePart, [_keys.ChannelName, StoreKeys.ScopeMessage(scopePart)], cancellationToken).ConfigureAwait(false);
    }
}
