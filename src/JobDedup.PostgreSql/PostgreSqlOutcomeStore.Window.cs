using JobDedup.PostgreSql.Notifications;
using Npgsql;

namespace JobDedup;

/// <content>The plain dedupe-window contract: read, save, remove and clear kept outcomes.</content>
public sealed partial class PostgreSqlOutcomeStore<TResult>
{
    /// <inheritdoc/>
    public async ValueTask<StoredOutcome<TResult>?> TryGetAsync(string scope, string key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        ArgumentException.ThrowIfNullOrEmpty(key);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);

        var command = _dataSource.CreateCommand(_sql.TryGet);
        await using (command.ConfigureAwait(false))
        {
            AddKey(command.Parameters, scope, key);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadOutcome(reader, 0, scope, key) : null;
            }
        }
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

        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var command = _dataSource.CreateCommand(_sql.Save);
        await using (command.ConfigureAwait(false))
        {
            AddKey(command.Parameters, scope, key);
            AddKeyText(command.Parameters, key);
            AddOutcome(command.Parameters, outcome);
            command.Parameters.Add(Interval("retention", retention));
            AddNotification(command.Parameters, NotificationListener.Payload(scope, key));
            await ChangedAsync(command, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    /// <remarks>A live claim on the key is dropped too: its holder's later writes are refused, and waiters are woken.</remarks>
    public async ValueTask RemoveAsync(string scope, string key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        ArgumentException.ThrowIfNullOrEmpty(key);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);

        var command = _dataSource.CreateCommand(_sql.Remove);
        await using (command.ConfigureAwait(false))
        {
            AddKey(command.Parameters, scope, key);
            AddNotification(command.Parameters, NotificationListener.Payload(scope, key));
            await ChangedAsync(command, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    /// <remarks>Live claims of the scope are dropped too, and every waiter is woken to read its key again.</remarks>
    public async ValueTask ClearAsync(string scope, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);

        var command = _dataSource.CreateCommand(_sql.Clear);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter<string>("scope", scope));
            AddNotification(command.Parameters, NotificationListener.Everything);
            await ChangedAsync(command, cancellationToken).ConfigureAwait(false);
        }
    }
}
