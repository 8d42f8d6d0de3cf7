namespace JobDedup.Testing;

/// <summary>Where the tests' PostgreSQL is: JOBDEDUP_POSTGRES, or the local one scripts/postgres.sh starts.</summary>
public static class PostgreSqlServer
{
    /// <summary>Gets the connection string, the same default as <c>scripts/postgres.sh connection-string</c>.</summary>
    public static string ConnectionString
    {
        get
        {
            if (Environment.GetEnvironmentVariable("JOBDEDUP_POSTGRES") is { Length: > 0 } configured)
            {
                return configured;
            }

            var user = Environment.GetEnvironmentVariable("PGUSER") is { Length: > 0 } pgUser ? pgUser : "postgres";
            var value = $"Host=127.0.0.1;Port=5432;Username={user};Database=jobdedup";
            if (Environment.GetEnvironmentVariable("PGPASSWORD") is { Length: > 0 } password)
            {
                value += $";Password={password}";
            }

            return value;
        }
    }
}
