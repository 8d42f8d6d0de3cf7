using JobDedup.Partitions;
using JobDedup.PostgreSql.Partitions;
using Npgsql;

namespace JobDedup;

/// <summary>
/// Partition leases in PostgreSQL, shared by every instance consuming one partitioned queue: a members table with a
/// heartbeat per instance, a leases table with one row per leased partition, and a session-level advisory lock that
/// each instance holds on its own connection for its life. A crashed instance's session ends with its process, so its
/// lock goes at once and its partitions pass to the others <see cref="PostgreSqlPartitionLeaseOptions.SessionGrace"/>
/// after its last renewal; an instance whose session still looks open loses them after
/// <see cref="PostgreSqlPartitionLeaseOptions.MemberTimeout"/>. The tables are created when missing.
/// </summary>
/// <remarks>One store serves one instance: it holds one connection (outside the pool) for its heartbeats and its lock.</remarks>
public sealed class PostgreSqlPartitionLeaseStore : IPartitionLeaseStore, IAsyncDisposable
{
    private readonly PostgreSqlPartitionLeaseOptions _options;
    private readonly PartitionLeaseSql _sql;
    private readonly string _connectionString;
    private readonly long _lockKey = Random.Shared.NextInt64(1, long.MaxValue);

    /// <summary>Serializes the use of the one connection.</summary>
    private readonly SemaphoreSlim _connectionGate = new(1, 1);
    private NpgsqlConnection? _connection;
    private bool _locked;
    private bool _created;
    private bool _disposed;

    /// <summary>Creates the store; nothing connects until the first call.</summary>
    /// <param name="options">The settings; copied, so later changes do not reach the store.</param>
    /// <exception cref="ArgumentException">The settings are not valid.</exception>
    public PostgreSqlPartitionLeaseStore(PostgreSqlPartitionLeaseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid PostgreSQL partition lease options: " + string.Join(" ", errors), nameof(options));
        }

        _options = options.Clone();
        _sql = new PartitionLeaseSql(_options.Schema, _options.TablePrefix);

        // Outside the pool: closing the connection must end the session, and with it the advisory lock.
        var builder = new NpgsqlConnectionStringBuilder(_options.ConnectionString) { Pooling = false };
        _connectionString = builder.ConnectionString;
        Server = $"{builder.Host}:{builder.Port}/{builder.Database}";
    }

    /// <summary>Gets the server and database, for messages (no credentials).</summary>
    public string Server { get; }

    /// <summary>Gets the two tables, for messages.</summary>
    public string Tables => $"{_sql.Members} and {_sql.Leases}";

    /// <inheritdoc />
    public TimeSpan HeartbeatInterval => _options.HeartbeatInterval;

    /// <inheritdoc />
    public TimeSpan FenceAfter => _options.SessionGrace;

    /// <summary>Connects and creates the tables if they are missing, so that a database that cannot be reached fails early.</summary>
    /// <param name="cancellationToken">Cancels the preparation.</param>
    /// <returns>A task that completes when the tables exist.</returns>
    public Task PrepareAsync(CancellationToken cancellationToken = default) => UseAsync(static (_, _) => Task.FromResult(true), cancellationToken);

    /// <inheritdoc />
    public Task<PartitionLeaseView> RenewAsync(string group, string member, CancellationToken cancellationToken = default) =>
        UseAsync(
            async (connection, ct) =>
            {
                var command = Command(connection, _sql.Renew, group, member);
                await using var commandScope = command.ConfigureAwait(false);
                command.Parameters.AddWithValue("lock", _lockKey);
                command.Parameters.AddWithValue("timeout", _options.MemberTimeout);
                command.Parameters.AddWithValue("grace", _options.SessionGrace);
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                var members = new List<string>();
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    members.Add(reader.GetString(0));
                }

                var owners = new Dictionary<int, string>();
                if (await reader.NextResultAsync(ct).ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        owners[reader.GetInt32(0)] = reader.GetString(1);
                    }
                }

                return new PartitionLeaseView(members, owners);
            },
            cancellationToken);

    /// <inheritdoc />
    public Task<bool> TryAcquireAsync(string group, string member, int partition, CancellationToken cancellationToken = default) =>
        UseAsync(
            async (connection, ct) =>
            {
                var command = Command(connection, _sql.Acquire, group, member);
                await using var commandScope = command.ConfigureAwait(false);
                command.Parameters.AddWithValue("partition", partition);
                return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is string owner && owner == member;
            },
            cancellationToken);

    /// <inheritdoc />
    public Task ReleaseAsync(string group, string member, int partition, CancellationToken cancellationToken = default) =>
        UseAsync(
            async (connection, ct) =>
            {
                var command = Command(connection, _sql.Release, group, member);
                await using var commandScope = command.ConfigureAwait(false);
                command.Parameters.AddWithValue("partition", partition);
                return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);

    /// <inheritdoc />
    public Task LeaveAsync(string group, string member, CancellationToken cancellationToken = default) =>
        UseAsync(
            async (connection, ct) =>
            {
                var command = Command(connection, _sql.Leave, group, member);
                await using var commandScope = command.ConfigureAwait(false);
                return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);

    /// <summary>Closes the connection: the session ends, and with it this instance's advisory lock.</summary>
    /// <returns>A task that completes when the connection is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        await _connectionGate.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            await DropConnectionAsync().ConfigureAwait(false);
        }
        finally
        {
            _connectionGate.Release();
        }
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, string group, string member)
    {
        var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("grp", group);
        command.Parameters.AddWithValue("member", member);
        return command;
    }

    private async Task<T> UseAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        await _connectionGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await work(connection, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not PostgresException)
            {
                // The connection may be broken or mid-statement: start a new session next time (and take the lock again).
                await DropConnectionAsync().ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            _connectionGate.Release();
        }
    }

    private async Task<NpgsqlConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_connection is { State: System.Data.ConnectionState.Open } open)
        {
            if (!_locked)
            {
                await LockAsync(open, cancellationToken).ConfigureAwait(false);
            }

            return open;
        }

        await DropConnectionAsync().ConfigureAwait(false);
        var connection = new NpgsqlConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (!_created)
            {
                var create = new NpgsqlCommand(_sql.Create, connection);
                await using var createScope = create.ConfigureAwait(false);
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                _created = true;
            }

            await LockAsync(connection, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _connection = connection;
        return connection;
    }

    /// <summary>Takes this instance's advisory lock on the session; while an old session still holds it, the heartbeat alone keeps the member live.</summary>
    private async Task LockAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(PartitionLeaseSql.TryLock, connection);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.AddWithValue("lock", _lockKey);
        _locked = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
    }

    private async Task DropConnectionAsync()
    {
        _locked = false;
        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
