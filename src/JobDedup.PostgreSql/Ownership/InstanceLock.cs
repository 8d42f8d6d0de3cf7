using JobDedup.PostgreSql.Schema;
using JobDedup.PostgreSql.Telemetry;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace JobDedup.PostgreSql.Ownership;

/// <summary>
/// The store instance's proof of life: a session-level advisory lock, keyed by an instance id drawn from the table's
/// instance sequence, held on one dedicated connection for the store's lifetime (unpooled, or one kept open from the
/// application's data source and unlocked explicitly when the store is disposed). Claims record the id; the
/// server drops the lock the moment the session ends (the process died, or its connection broke), and from then on
/// other instances may take those claims over without waiting for their leases. The connection is checked every few
/// seconds; when it broke, a new connection takes a new id, and renewals stamp it on the claims still held.
/// </summary>
internal sealed class InstanceLock : IAsyncDisposable
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly NpgsqlDataSource _dataSource;
    private readonly StoreSql _sql;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _sync = new();
    private NpgsqlConnection? _connection;
    private Task? _loop;
    private int _instance; // 0 while no lock is held; ids start at 1

    private readonly bool _ownsDataSource;

    private InstanceLock(NpgsqlDataSource dataSource, bool ownsDataSource, StoreSql sql, ILogger logger, TimeProvider timeProvider)
    {
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        _sql = sql;
        _logger = logger;
        _timeProvider = timeProvider;
    }

    /// <summary>A lock on a connection of its own, never pooled: closing it ends the session.</summary>
    /// <param name="connectionString">The store's connection string.</param>
    /// <param name="sql">The store's statements.</param>
    /// <param name="logger">Where a lost lock is reported.</param>
    /// <param name="timeProvider">The clock of the checks.</param>
    public static InstanceLock Unpooled(string connectionString, StoreSql sql, ILogger logger, TimeProvider timeProvider)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,

            // Never idle for long: the check keeps it busy, and a server-side idle timeout must not end the session.
            KeepAlive = 10,
        };
        return new InstanceLock(NpgsqlDataSource.Create(builder.ConnectionString), ownsDataSource: true, sql, logger, timeProvider);
    }

    /// <summary>
    /// A lock on one connection of the application's data source, held open for the store's lifetime; since that
    /// connection may go back to a pool, the lock is released explicitly when the store is disposed.
    /// </summary>
    /// <param name="dataSource">The application's data source (not disposed here).</param>
    /// <param name="sql">The store's statements.</param>
    /// <param name="logger">Where a lost lock is reported.</param>
    /// <param name="timeProvider">The clock of the checks.</param>
    public static InstanceLock OnDataSource(NpgsqlDataSource dataSource, StoreSql sql, ILogger logger, TimeProvider timeProvider) =>
        new(dataSource, ownsDataSource: false, sql, logger, timeProvider);

    /// <summary>Gets the instance id whose lock is held now, or <see langword="null"/> while none is (claims then rely on their lease).</summary>
    public int? Current => Volatile.Read(ref _instance) is var id and > 0 ? id : null;

    /// <summary>Takes the lock once (a failure is logged, not thrown: claims fall back to their lease), then keeps it in the background.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            if (_loop is not null)
            {
                return;
            }
        }

        try
        {
            await AcquireAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.InstanceLockFailed(_logger, _sql.Channel, ex);
        }

        lock (_sync)
        {
            if (!_stopping.IsCancellationRequested)
            {
                _loop ??= Task.Run(KeepAsync, CancellationToken.None);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        Task? loop;
        lock (_sync)
        {
            loop = _loop;
        }

        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }

        // Closing the session releases the lock: claims still recorded under this instance may be taken over at once.
        await DropAsync(unlock: true).ConfigureAwait(false);
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async Task AcquireAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // An id held by a live instance (the sequence came round) is skipped.
            for (var round = 0; round < 16; round++)
            {
                var command = new NpgsqlCommand(_sql.TakeInstanceLock, connection);
                await using (command.ConfigureAwait(false))
                {
                    var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                        if (reader.GetBoolean(1))
                        {
                            var id = reader.GetInt32(0);
                            _connection = connection;
                            Volatile.Write(ref _instance, id);
                            Log.InstanceLockTaken(_logger, _sql.Channel, id);
                            return;
                        }
                    }
                }
            }

            throw new InvalidOperationException($"No free instance id in {_sql.InstanceSequence} after 16 tries.");
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task KeepAsync()
    {
        var token = _stopping.Token;
        var backoff = TimeSpan.FromSeconds(1);
        while (!token.IsCancellationRequested)
        {
            try
            {
                if (_connection is null)
                {
                    await AcquireAsync(token).ConfigureAwait(false);
                    backoff = TimeSpan.FromSeconds(1);
                }

                await Task.Delay(CheckInterval, _timeProvider, token).ConfigureAwait(false);
                var ping = new NpgsqlCommand("SELECT 1", _connection);
                await using (ping.ConfigureAwait(false))
                {
                    await ping.ExecuteNonQueryAsync(token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // The session may be gone, and with it the lock: stop stamping claims with this id, and take a new one.
                if (Volatile.Read(ref _instance) is var lost and > 0)
                {
                    Log.InstanceLockLost(_logger, _sql.Channel, lost, backoff, ex);
                }
                else
                {
                    Log.InstanceLockFailed(_logger, _sql.Channel, ex);
                }

                await DropAsync(unlock: false).ConfigureAwait(false);
                try
                {
                    await Task.Delay(backoff, _timeProvider, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    private async Task DropAsync(bool unlock)
    {
        var instance = Volatile.Read(ref _instance);
        Volatile.Write(ref _instance, 0);
        if (_connection is not { } connection)
        {
            return;
        }

        _connection = null;
        if (unlock && instance > 0 && connection.State == System.Data.ConnectionState.Open)
        {
            try
            {
                // Closing ends the session only on an unpooled connection; a pooled one would keep its locks.
                var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({_sql.LockSpace}, {instance})", connection);
                await using (release.ConfigureAwait(false))
                {
                    await release.ExecuteNonQueryAsync().WaitAsync(TimeSpan.FromSeconds(2), _timeProvider).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                // The session is broken already: the server drops its locks with it.
            }
        }

        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or ObjectDisposedException)
        {
            // Broken already: the server has ended the session (or will, when it notices).
        }
    }
}
