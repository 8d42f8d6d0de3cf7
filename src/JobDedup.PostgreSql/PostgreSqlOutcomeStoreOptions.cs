using System.Text.Json;
using System.Text.RegularExpressions;

namespace JobDedup;

/// <summary>Settings of a <see cref="PostgreSqlOutcomeStore{TResult}"/>. Checked when the store is built.</summary>
public sealed partial class PostgreSqlOutcomeStoreOptions
{
    /// <summary>The longest table name: the fencing sequence and the index are named after it, within PostgreSQL's 63 bytes.</summary>
    internal const int MaxTableLength = 40;

    /// <summary>PostgreSQL truncates identifiers (and notification channels) longer than this.</summary>
    internal const int MaxIdentifierLength = 63;

    /// <summary>Gets or sets the Npgsql connection string of the database that holds the outcomes.</summary>
    /// <value>The default is empty; it must be set unless <see cref="DataSource"/> is.</value>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>
    /// Gets or sets a data source the application already has (one registered with <c>AddNpgsqlDataSource</c>, say),
    /// used instead of <see cref="ConnectionString"/>. It stays the application's: the store never disposes it.
    /// </summary>
    /// <value>The default is <see langword="null"/>: the store builds its own from <see cref="ConnectionString"/>.</value>
    public Npgsql.NpgsqlDataSource? DataSource { get; set; }

    /// <summary>Gets or sets the schema of the outcome table; created by the migration if it does not exist.</summary>
    /// <value>The default is <c>public</c>.</value>
    public string Schema { get; set; } = "public";

    /// <summary>
    /// Gets or sets the outcome table's name. Letters, digits and underscores, at most 40 characters; it also names
    /// the fencing sequence (<c>{Table}_fencing</c>) and the notification channel (<c>{Schema}.{Table}</c>).
    /// </summary>
    /// <value>The default is <c>jobdedup_outcomes</c>.</value>
    public string Table { get; set; } = "jobdedup_outcomes";

    /// <summary>
    /// Gets or sets how often the store's background loop deletes expired rows; <see cref="TimeSpan.Zero"/> turns the
    /// loop off (call <see cref="PostgreSqlOutcomeStore{TResult}.CleanupAsync"/> yourself then).
    /// </summary>
    /// <value>The default is 1 minute.</value>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets how many expired rows one cleanup statement deletes; a cleanup repeats while batches come back full.</summary>
    /// <value>The default is 1,000.</value>
    public int CleanupBatchSize { get; set; } = 1_000;

    /// <summary>
    /// Gets or sets how long the row of a claim whose lease lapsed (its holder crashed, nobody took the key over) is
    /// kept before cleanup deletes it. A lapsed claim never blocks the key; the row only tells who held it.
    /// </summary>
    /// <value>The default is 10 minutes.</value>
    public TimeSpan ExpiredClaimRetention { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Gets or sets how often a caller waiting on another instance's claim reads the key again, in case a notification
    /// was missed. It also reads at the claim's lease expiry, whichever comes first.
    /// </summary>
    /// <value>The default is 1 second.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the options of the default serializer (System.Text.Json); ignored when <see cref="Serializer"/> is set.</summary>
    /// <value>The default is <see langword="null"/>: <see cref="JsonSerializerOptions.Default"/>.</value>
    public JsonSerializerOptions? SerializerOptions { get; set; }

    /// <summary>Gets or sets how outcomes are turned into bytes and back, instead of System.Text.Json.</summary>
    /// <value>The default is <see langword="null"/>: System.Text.Json with <see cref="SerializerOptions"/>.</value>
    public IOutcomeSerializer? Serializer { get; set; }

    /// <summary>Lists what is wrong with these settings, each message naming its option.</summary>
    /// <returns>The problems; empty when the settings are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (DataSource is not null)
        {
            if (!string.IsNullOrWhiteSpace(ConnectionString))
            {
                errors.Add($"{nameof(ConnectionString)} and {nameof(DataSource)} are both set: set one, the data source or the connection string.");
            }
        }
        else if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            errors.Add($"{nameof(ConnectionString)} must be set to an Npgsql connection string (Host=…;Username=…;Database=…), or {nameof(DataSource)} to a data source.");
        }
        else
        {
            try
            {
                _ = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString);
            }
            catch (ArgumentException ex)
            {
                errors.Add($"{nameof(ConnectionString)} is not a valid Npgsql connection string: {ex.Message}");
            }
        }

        if (string.IsNullOrEmpty(Schema) || Schema.Length > MaxIdentifierLength || !Identifier().IsMatch(Schema))
        {
            errors.Add($"{nameof(Schema)} must be 1 to {MaxIdentifierLength} letters, digits or underscores, not starting with a digit, not '{Schema}'.");
        }

        if (string.IsNullOrEmpty(Table) || Table.Length > MaxTableLength || !Identifier().IsMatch(Table))
        {
            errors.Add($"{nameof(Table)} must be 1 to {MaxTableLength} letters, digits or underscores, not starting with a digit, not '{Table}'.");
        }
        else if (!string.IsNullOrEmpty(Schema) && Schema.Length + 1 + Table.Length > MaxIdentifierLength)
        {
            errors.Add($"{nameof(Schema)} and {nameof(Table)} together must be at most {MaxIdentifierLength - 1} characters: '{Schema}.{Table}' names the notification channel.");
        }

        if (CleanupInterval != TimeSpan.Zero && (CleanupInterval < TimeSpan.FromMilliseconds(100) || CleanupInterval > TimeSpan.FromDays(1)))
        {
            errors.Add($"{nameof(CleanupInterval)} must be zero (off) or between 100 ms and 1 day, not {CleanupInterval}.");
        }

        if (CleanupBatchSize is < 1 or > 100_000)
        {
            errors.Add($"{nameof(CleanupBatchSize)} must be between 1 and 100,000, not {CleanupBatchSize}.");
        }

        if (ExpiredClaimRetention < TimeSpan.Zero || ExpiredClaimRetention > TimeSpan.FromDays(365))
        {
            errors.Add($"{nameof(ExpiredClaimRetention)} must be between 0 and 365 days, not {ExpiredClaimRetention}.");
        }

        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"{nameof(PollInterval)} must be between 10 ms and 1 hour, not {PollInterval}.");
        }

        return errors;
    }

    /// <summary>Throws when the settings are invalid, naming each wrong option.</summary>
    /// <exception cref="ArgumentException">At least one setting is invalid.</exception>
    internal void EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid PostgreSQL outcome store options: " + string.Join(" ", errors), "options");
        }
    }

    /// <summary>Copies the settings, so that later changes to the caller's instance do not reach a running store.</summary>
    internal PostgreSqlOutcomeStoreOptions Clone() => (PostgreSqlOutcomeStoreOptions)MemberwiseClone();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();
}
