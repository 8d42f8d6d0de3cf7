namespace JobDedup;

/// <content>Whether the database answers, for the store's health check.</content>
public sealed partial class PostgreSqlOutcomeStore<TResult>
{
    /// <summary>Runs one trivial statement on a pooled connection: the database can be reached and answers.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that faults when the database cannot be reached.</returns>
    internal async Task PingAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var command = _dataSource.CreateCommand("SELECT 1");
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
