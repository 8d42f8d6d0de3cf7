using System.Security.Cryptography;
using System.Text;
using JobDedup.PostgreSql.Notifications;
using JobDedup.PostgreSql.Ownership;
using JobDedup.PostgreSql.Schema;
using JobDedup.PostgreSql.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace JobDedup;

/// <summary>
/// A durable outcome store on PostgreSQL: the dedupe window survives restarts and is shared by every instance on the
/// database, and a key is claimed before its handler runs, so only one instance at a time runs it. Claims hold for a
/// lease that the running instance renews, and record the store instance that made them: each store holds a
/// session-level advisory lock for its lifetime, so when its process dies the server drops the lock and another
/// instance takes the key over at once, without waiting for the lease; an instance cut off from the server stops
/// renewing and loses its keys when their leases lapse. A takeover gets a larger fencing token, which makes the dead
/// one's late writes fail. Rows are keyed by the SHA-256 of the key, so a key of any length and characters fits.
/// Waiters on another instance's claim are woken by LISTEN/NOTIFY, with polling as a fallback. Expired rows are deleted
/// in batches by a background loop. Leases and expiry use the database's clock.
/// </summary>
/// <typeparam name="TResult">The handler's result type; serialized with System.Text.Json unless another serializer is set.</typeparam>
/// <remarks>
/// The table is created (or brought up to date) by a versioned migration on first use, or by <see cref="MigrateAsync"/>.
/// Outcomes are never logged.
/// </remarks>
public sealed partial class PostgreSqlOutcomeStore<TResult> : IClaimingOutcomeStore<TResult>, IAsyncDisposable
{
    // Far beyond any sensible retention, and well inside PostgreSQL's timestamp range.
    private static readonly TimeSpan LongestInterval = TimeSpan.FromDays(365 * 100);

    private readonly PostgreSqlOutcomeStoreOptions _options;
    private readonly StoreSql _sql;
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly NotificationListener _listener;
    private readonly InstanceLock? _instanceLock;
    private readonly IOutcomeSerializer _serializer;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _sync = new();
    private Task? _migration;
    private Task? _cleanupLoop;
    private int _disposed;

    /// <summary>Initializes a new instance of the <see cref="PostgreSqlOutcomeStore{TResult}"/> class. Nothing connects until first use.</summary>
    /// <param name="options">Settings, copied here; <see cref="PostgreSqlOutcomeStoreOptions.ConnectionString"/> or <see cref="PostgreSqlOutcomeStoreOptions.DataSource"/> is required.</param>
    /// <param name="loggerFactory">Where log events go (Npgsql's too); nowhere when omitted.</param>
    /// <param name="timeProvider">The clock for polling and the cleanup loop; the system clock when omitted. Leases and expiry always use the database's clock.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public PostgreSqlOutcomeStore(PostgreSqlOutcomeStoreOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.EnsureValid();
        _options = options.Clone();
        _sql = new StoreSql(_options.Schema, _options.Table);
        _serializer = _options.Serializer ?? new JsonOutcomeSerializer(_options.SerializerOptions);
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("JobDedup.PostgreSqlOutcomeStore");

        // The application's own data source is used with its own settings and never disposed here; otherwise the
        // store builds one of its own from the connection string.
        string? ownConnectionString = null;
        if (_options.DataSource is { } given)
        {
            _dataSource = given;
        }
        else
        {
            ownConnectionString = OwnConnectionString(_options.ConnectionString);
            var builder = new NpgsqlDataSourceBuilder(ownConnectionString);
            if (loggerFactory is not null)
            {
                builder.UseLoggerFactory(loggerFactory);
            }

            _dataSource = builder.Build();
        }

        _ownsDataSource = ownConnectionString is not null;
        var settings = new NpgsqlConnectionStringBuilder(ownConnectionString ?? _dataSource.ConnectionString);
        Server = $"{settings.Host}:{settings.Port}/{settings.Database}";
        _listener = new NotificationListener(_dataSource, _sql.Listen, TableName, _sql.Channel, _logger, _timeProvider);
        if (_options.DetectDeadOwners)
        {
            // On an own data source the session lock gets a connection outside the pool; on the application's, a pooled one.
            _instanceLock = ownConnectionString is not null
                ? InstanceLock.Unpooled(ownConnectionString, _sql, _logger, _timeProvider)
                : InstanceLock.OnDataSource(_dataSource, _sql, _logger, _timeProvider);
        }
    }

    /// <summary>The connection string of a data source the store builds itself: safe logging, prepared statements, a name.</summary>
    private static string OwnConnectionString(string connectionString)
    {
        var connection = new NpgsqlConnectionStringBuilder(connectionString)
        {
            // Outcomes travel as parameters: they must never reach a log, whatever the connection string says.
            LogParameters = false,
        };
        if (connection.MaxAutoPrepare == 0)
        {
            // The same few statements run all the time: let Npgsql prepare them on each connection.
            connection.MaxAutoPrepare = 16;
        }

        if (string.IsNullOrEmpty(connection.ApplicationName))
        {
            connection.ApplicationName = "JobDedup";
        }

        return connection.ConnectionString;
    }

    /// <summary>Gets the outcome table, as <c>schema.table</c>.</summary>
    public string TableName => _sql.Channel;

    /// <summary>Gets the server and database the store uses, as <c>host:port/database</c> (never the credentials).</summary>
    public string Server { get; }

    /// <summary>Gets the statements (for tests).</summary>
    internal StoreSql Sql => _sql;

    /// <summary>Gets how many callers wait on another instance's claim now (for tests).</summary>
    internal int Waiters => _listener.Waiters;

    /// <summary>Gets a value indicating whether the notification connection is LISTENing (for tests).</summary>
    internal bool IsListening => _listener.IsListening;

    /// <summary>Gets the instance id whose advisory lock this store holds now, if any (for tests).</summary>
    internal int? Instance => _instanceLock?.Current;

    /// <summary>
    /// Creates the outcome table or brings it to the latest schema version. Safe to call from several processes at
    /// once, and any number of times; every other method calls it on first use.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting (the migration itself goes on for other callers).</param>
    /// <returns>A task that completes when the table is ready.</returns>
    public Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return ReadyAsync(cancellationToken);
    }

    /// <summary>Stops the cleanup loop and the notification connection, and closes the connections. Waiting callers get an <see cref="ObjectDisposedException"/>.</summary>
    /// <returns>A task that completes when the store is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        Task? cleanup;
        lock (_sync)
        {
            cleanup = _cleanupLoop;
        }

        if (cleanup is not null)
        {
            await cleanup.ConfigureAwait(false);
        }

        await _listener.DisposeAsync().ConfigureAwait(false);
        if (_instanceLock is not null)
        {
            await _instanceLock.DisposeAsync().ConfigureAwait(false);
        }

        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }

        _disposing.Dispose();
    }

    /// <summary>Throws when disposed, then waits for the migration (started by the first caller, retried after a failure).</summary>
    private Task ReadyAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var migration = Volatile.Read(ref _migration);
        return migration is { IsCompletedSuccessfully: true } ? Task.CompletedTask : WaitForMigrationAsync(cancellationToken);
    }

    private async Task WaitForMigrationAsync(CancellationToken cancellationToken)
    {
        Task migration;
        lock (_sync)
        {
            if (_migration is null || _migration.IsFaulted || _migration.IsCanceled)
            {
                // Not bound to this caller's token: one impatient caller must not fail the migration for the others.
                _migration = MigrateCoreAsync(_disposing.Token);
            }

            migration = _migration;
        }

        await migration.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task MigrateCoreAsync(CancellationToken cancellationToken)
    {
        await Migrator.MigrateAsync(_dataSource, _sql, _logger, cancellationToken).ConfigureAwait(false);
        if (_instanceLock is not null)
        {
            // Before the first claim, so that it is protected by the lock; a failure leaves claims to their leases.
            await _instanceLock.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_options.CleanupInterval > TimeSpan.Zero)
        {
            lock (_sync)
            {
                if (!_disposing.IsCancellationRequested)
                {
                    _cleanupLoop ??= Task.Run(CleanupLoopAsync, CancellationToken.None);
                }
            }
        }
    }

    private static void AddKey(NpgsqlParameterCollection parameters, string scope, string key)
    {
        parameters.Add(new NpgsqlParameter<string>("scope", scope));
        parameters.Add(new NpgsqlParameter<byte[]>("digest", KeyDigest(key)));
    }

    /// <summary>Adds the key as rows show it, for the statements that write a new row.</summary>
    private static void AddKeyText(NpgsqlParameterCollection parameters, string key) =>
        parameters.Add(new NpgsqlParameter<string>("key_text", DisplayKey(key)));

    /// <summary>What a row is found by: the SHA-256 of the key's UTF-8 bytes (the migration computes the same).</summary>
    internal static byte[] KeyDigest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The key as the row's <c>key</c> column shows it: text cannot hold NUL, written as <c>\u0000</c> there.</summary>
    internal static string DisplayKey(string key) => key.Contains('\0', StringComparison.Ordinal) ? key.Replace("\0", "\\u0000", StringComparison.Ordinal) : key;

    private static NpgsqlParameter<TimeSpan> Interval(string name, TimeSpan value) =>
        new(name, value > LongestInterval ? LongestInterval : value < TimeSpan.Zero ? TimeSpan.Zero : value);

    private void AddNotification(NpgsqlParameterCollection parameters, string payload)
    {
        parameters.Add(new NpgsqlParameter<string>("channel", _sql.Channel));
        parameters.Add(new NpgsqlParameter<string>("payload", payload));
    }

    /// <summary>Adds an outcome's columns; a kept failure has no value, only its exception's type and message.</summary>
    private void AddOutcome(NpgsqlParameterCollection parameters, in StoredOutcome<TResult> outcome)
    {
        var failure = outcome.Failure;
        parameters.Add(new NpgsqlParameter("outcome", NpgsqlTypes.NpgsqlDbType.Bytea) { Value = failure is null ? _serializer.Serialize(outcome.Value) : DBNull.Value });
        parameters.Add(new NpgsqlParameter<int>("attempts", outcome.Attempts));
        parameters.Add(new NpgsqlParameter<DateTimeOffset>("completed_at", outcome.CompletedAt.ToUniversalTime()));
        AddFingerprint(parameters, outcome.Fingerprint);
        parameters.Add(Text("failure_type", failure is null ? null : failure.ExceptionType ?? string.Empty));
        parameters.Add(Text("failure_message", failure is null ? null : failure.Message ?? string.Empty));
    }

    private static void AddFingerprint(NpgsqlParameterCollection parameters, string? fingerprint) =>
        parameters.Add(Text("fingerprint", fingerprint));

    private static NpgsqlParameter Text(string name, string? value) =>
        new(name, NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)value ?? DBNull.Value };

    /// <summary>Runs a statement whose rows say whether it changed anything (its notification is sent at commit).</summary>
    private static async Task<bool> ChangedAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads a kept outcome from the columns outcome, attempts, completed_at, fingerprint, failure_type and
    /// failure_message, starting at <paramref name="outcome"/>. A row written before fingerprints and kept failures
    /// has neither. A value that no longer reads as <typeparamref name="TResult"/> fails loudly rather than running
    /// the job again.
    /// </summary>
    private StoredOutcome<TResult> ReadOutcome(NpgsqlDataReader reader, int outcome, string scope, string key)
    {
        var attempts = reader.GetInt32(outcome + 1);
        var completedAt = reader.IsDBNull(outcome + 2) ? DateTimeOffset.MinValue : reader.GetFieldValue<DateTimeOffset>(outcome + 2);
        var fingerprint = reader.IsDBNull(outcome + 3) ? null : reader.GetString(outcome + 3);
        if (!reader.IsDBNull(outcome + 4))
        {
            var failure = new StoredFailure(reader.GetString(outcome + 4), reader.IsDBNull(outcome + 5) ? string.Empty : reader.GetString(outcome + 5));
            return new StoredOutcome<TResult>(default!, attempts, completedAt) { Fingerprint = fingerprint, Failure = failure };
        }

        TResult value;
        try
        {
            value = _serializer.Deserialize<TResult>(reader.GetFieldValue<byte[]>(outcome));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new InvalidOperationException(
                $"The outcome kept for key '{key}' of scope '{scope}' in {TableName} cannot be read as {typeof(TResult).Name} " +
                $"({ex.GetType().Name}); remove the key, or keep the serializer compatible with what is stored.",
                ex);
        }

        return new StoredOutcome<TResult>(value, attempts, completedAt) { Fingerprint = fingerprint };
    }
}
