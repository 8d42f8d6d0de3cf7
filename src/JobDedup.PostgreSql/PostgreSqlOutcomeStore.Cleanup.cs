using JobDedup.PostgreSql.Telemetry;
using Npgsql;

namespace JobDedup;

/// <content>Cleanup: expired outcomes and long-lapsed claims are deleted in batches, by a loop and on demand.</content>
public sealed partial class PostgreSqlOutcomeStore<TResult>
{
    private long _cleanupBatches;

    /// <summary>Gets how many cleanup statements have run (for tests).</summary>
    internal long CleanupBatches => Interlocked.Read(ref _cleanupBatches);

    /// <summary>
    /// Deletes every expired row: outcomes past their retention, and claims whose lease lapsed more than
    /// <see cref="PostgreSqlOutcomeStoreOptions.ExpiredClaimRetention"/> ago. Each statement deletes at most
    /// <see cref="PostgreSqlOutcomeStoreOptions.CleanupBatchSize"/> rows (short transactions, short locks), and the
    /// next one runs while batches come back full. Rows another session holds are skipped. The store's background
    /// loop calls this every <see cref="PostgreSqlOutcomeStoreOptions.CleanupInterval"/>.
    /// </summary>
    /// <param name="cancellationToken">Stops between (or during) batches; deleted batches stay deleted.</param>
    /// <returns>How many rows were deleted.</returns>
    public async Task<long> CleanupAsync(CancellationToken cancellationToken = default)
    {
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        long deleted = 0;
        var batches = 0;
        while (true)
        {
            int rows;
            var command = _dataSource.CreateCommand(_sql.CleanupBatch);
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.Add(new NpgsqlParameter<int>("batch", _options.CleanupBatchSize));
                rows = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            Interlocked.Increment(ref _cleanupBatches);
            batches++;
            deleted += rows;
            if (rows < _options.CleanupBatchSize)
            {
                break;
            }
        }

        if (deleted > 0)
        {
            Log.CleanedUp(_logger, TableName, deleted, batches);
        }

        return deleted;
    }

    private async Task CleanupLoopAsync()
    {
        var token = _disposing.Token;
        try
        {
            using var timer = new PeriodicTimer(_options.CleanupInterval, _timeProvider);
            while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
            {
                try
                {
                    await CleanupAsync(token).ConfigureAwait(false);
                }
                catch (Exception ex) when (Volatile.Read(ref _disposed) == 0)
                {
                    // A database that is down for a while must not end the loop (nor the process).
                    Log.CleanupFailed(_logger, TableName, _options.CleanupInterval, ex);
                }
            }
        }
        catch (Exception) when (Volatile.Read(ref _disposed) != 0)
        {
            // Disposed, possibly while a cleanup was running.
        }
    }
}
