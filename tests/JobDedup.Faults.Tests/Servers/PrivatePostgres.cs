using System.Globalization;

namespace JobDedup.Faults.Tests.Servers;

/// <summary>
/// A PostgreSQL cluster of the suite's own (127.0.0.1:5433, files under the suite's directory, trust on loopback only),
/// so that it can be stopped mid-run without touching the shared server on 5432. As root it runs as the postgres user.
/// </summary>
internal sealed class PrivatePostgres(FaultDirectory faults)
{
    public const int Port = 5433;
    private const string Kind = "postgres";
    private string _dir = string.Empty;
    private string _bin = string.Empty;
    private int _pid;

    public static string ConnectionString =>
        $"Host=127.0.0.1;Port={Port.ToString(CultureInfo.InvariantCulture)};Username=postgres;Database=postgres;Timeout=5;Command Timeout=10";

    private string Data => Path.Combine(_dir, "data");

    private static string User => "postgres";

    public async Task StartAsync()
    {
        _bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(v => Path.Combine(v, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb")))
                .OrderBy(b => Version.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : new Version(0, 0))
                .LastOrDefault() ?? string.Empty
            : string.Empty;
        if (_bin.Length == 0)
        {
            throw new InvalidOperationException("PostgreSQL's server binaries are not installed (/usr/lib/postgresql/*/bin). Install them with: scripts/postgres.sh start (as root) or apt-get install postgresql.");
        }

        _dir = faults.Sub(Kind);
        PrivateRabbitMq.Wipe(_dir);
        if (Shell.IsRoot)
        {
            (await Shell.RunAsync("chown", [$"{User}:{User}", _dir])).OrThrow($"give {_dir} to the {User} user");
        }

        (await Shell.RunAsync("chmod", ["700", _dir])).OrThrow($"make {_dir} private");
        (await Shell.RunAsync(Path.Combine(_bin, "initdb"), ["-D", Data, "-U", "postgres", "--auth-local=trust", "--auth-host=trust", "-E", "UTF8", "--no-instructions"], asUser: User))
            .OrThrow("create the fault suite's PostgreSQL cluster");
        await File.AppendAllTextAsync(Path.Combine(Data, "postgresql.conf"), $"""

            listen_addresses = '127.0.0.1'
            port = {Port}
            unix_socket_directories = '{_dir}'
            max_connections = 300
            fsync = off
            synchronous_commit = off
            full_page_writes = off

            """);
        await StartServerAsync();
    }

    /// <summary>Stops the server (fast: open connections are cut), as an outage would.</summary>
    public async Task StopServerAsync()
    {
        (await Shell.RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Data, "-m", "fast", "-w", "-t", "60", "stop"], asUser: User))
            .OrThrow("stop the fault suite's PostgreSQL cluster");
        await Signals.WaitGoneAsync(_pid, TimeSpan.FromSeconds(10));
        faults.Forget(Kind, _pid);
        _pid = 0;
    }

    /// <summary>Starts the server again on the same files.</summary>
    public async Task StartServerAsync()
    {
        (await Shell.RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Data, "-l", Path.Combine(_dir, "server.log"), "-w", "-t", "60", "start"], asUser: User))
            .OrThrow($"start the fault suite's PostgreSQL cluster (see {_dir}/server.log)");
        var first = (await File.ReadAllLinesAsync(Path.Combine(Data, "postmaster.pid")))[0];
        _pid = int.Parse(first.Trim(), CultureInfo.InvariantCulture);
        faults.Record(Kind, _pid, Data);
    }

    public async Task StopAsync()
    {
        if (_pid != 0)
        {
            await StopServerAsync();
        }
    }
}
