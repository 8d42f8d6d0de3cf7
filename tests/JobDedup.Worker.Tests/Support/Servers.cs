namespace JobDedup.Worker.Tests.Support;

/// <summary>Where the shared PostgreSQL and Redis servers are, as the scripts that start them say.</summary>
public static class Servers
{
    /// <summary>As <c>scripts/postgres.sh connection-string</c>.</summary>
    public static string PostgreSql() =>
        (Environment.GetEnvironmentVariable("JOBDEDUP_POSTGRES") is { Length: > 0 } configured
            ? configured
            : "Host=127.0.0.1;Port=5432;Username=postgres;Database=jobdedup") + ";Search Path=public";

    /// <summary>As <c>scripts/redis.sh connection-string</c>: JOBDEDUP_REDIS, else the port the script's server listens on.</summary>
    public static string Redis()
    {
        var portFile = Path.Combine(Environment.GetEnvironmentVariable("JOBDEDUP_REDIS_DIR") is { Length: > 0 } dir ? dir : "/tmp/jobdedup-redis", "port");
        return Environment.GetEnvironmentVariable("JOBDEDUP_REDIS") is { Length: > 0 } configured
            ? configured
            : $"127.0.0.1:{(File.Exists(portFile) ? File.ReadAllText(portFile).Trim() : "6379")}";
    }
}
