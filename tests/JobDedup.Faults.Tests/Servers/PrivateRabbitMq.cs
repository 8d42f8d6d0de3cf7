using System.Globalization;
using System.Net.Sockets;

namespace JobDedup.Faults.Tests.Servers;

/// <summary>
/// A RabbitMQ node of the suite's own (faults@localhost, AMQP on 127.0.0.1:5673, distribution on 25673, files under
/// the suite's directory), so that its connections can be closed and its app stopped without touching the shared broker
/// on 5672. It registers with the port mapper (epmd) already running for the shared node and shares its Erlang cookie
/// (it runs as the rabbitmq user when the suite runs as root).
/// </summary>
internal sealed class PrivateRabbitMq(FaultDirectory faults)
{
    public const string Node = "faults@localhost";
    public const int Port = 5673;
    public const int DistributionPort = 25673;
    private const string Kind = "rabbitmq";

    private string _dir = string.Empty;
    private int _pid;

    public static string Uri => $"amqp://guest:guest@127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/";

    private static string User => "rabbitmq";

    public async Task StartAsync()
    {
        _dir = faults.Sub(Kind);
        Wipe(_dir);
        var mnesia = Directory.CreateDirectory(Path.Combine(_dir, "mnesia")).FullName;
        var logs = Directory.CreateDirectory(Path.Combine(_dir, "log")).FullName;
        await File.WriteAllTextAsync(Path.Combine(_dir, "enabled_plugins"), "[rabbitmq_consistent_hash_exchange].\n");
        await File.WriteAllTextAsync(Path.Combine(_dir, "rabbitmq-env.conf"), string.Empty);
        if (Shell.IsRoot)
        {
            (await Shell.RunAsync("chown", ["-R", $"{User}:{User}", _dir])).OrThrow($"give {_dir} to the {User} user");
        }

        if (Answers())
        {
            throw new InvalidOperationException(
                $"Something already listens on 127.0.0.1:{Port}, which the fault suite's own RabbitMQ node needs. Stop it, or run the suite where that port is free.");
        }

        var environment = new Dictionary<string, string>
        {
            ["HOME"] = Shell.IsRoot ? "/var/lib/rabbitmq" : Environment.GetEnvironmentVariable("HOME") ?? "/tmp",
            ["RABBITMQ_NODENAME"] = Node,
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = Port.ToString(CultureInfo.InvariantCulture),
            ["RABBITMQ_DIST_PORT"] = DistributionPort.ToString(CultureInfo.InvariantCulture),
            ["RABBITMQ_MNESIA_BASE"] = mnesia,
            ["RABBITMQ_LOG_BASE"] = logs,
            ["RABBITMQ_PID_FILE"] = Path.Combine(_dir, "node.pid"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_dir, "enabled_plugins"),
            ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(_dir, "rabbitmq-env.conf"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(_dir, "rabbitmq"),
            ["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(_dir, "advanced.config"),
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
        };
        (await Shell.RunAsync(Program("rabbitmq-server"), ["-detached"], environment, User)).OrThrow("start the fault suite's RabbitMQ node");
        await AwaitStartupAsync();
        _pid = int.Parse((await File.ReadAllTextAsync(Path.Combine(_dir, "node.pid"))).Trim(), CultureInfo.InvariantCulture);
        faults.Record(Kind, _pid, mnesia);
    }

    /// <summary>Runs rabbitmqctl against this node only.</summary>
    public static async Task<CommandResult> CtlAsync(params string[] arguments)
    {
        var environment = new Dictionary<string, string>
        {
            ["HOME"] = Shell.IsRoot ? "/var/lib/rabbitmq" : Environment.GetEnvironmentVariable("HOME") ?? "/tmp",
        };
        return await Shell.RunAsync(Program("rabbitmqctl"), ["-n", Node, .. arguments], environment, User);
    }

    /// <summary>Closes every client connection of this node, as a network cut or a broker restart would.</summary>
    public static async Task CloseAllConnectionsAsync() =>
        (await CtlAsync("close_all_connections", "fault injected by the test suite")).OrThrow("close the connections of the fault suite's node");

    /// <summary>Stops the RabbitMQ application on this node (the Erlang node stays up), then starts it again.</summary>
    /// <summary>Stops the broker's application (rabbitmqctl stop_app); the node stays up, so it can start again.</summary>
    public static async Task StopAppAsync() =>
        (await CtlAsync("stop_app")).OrThrow("stop the fault suite's RabbitMQ app");

    /// <summary>Starts the broker's application again (rabbitmqctl start_app) and waits until it serves.</summary>
    public async Task StartAppAsync()
    {
        (await CtlAsync("start_app")).OrThrow("start the fault suite's RabbitMQ app");
        await AwaitStartupAsync();
    }

    public async Task StopAsync()
    {
        if (_pid == 0)
        {
            return;
        }

        await CtlAsync("stop", Path.Combine(_dir, "node.pid"));
        if (!await Signals.WaitGoneAsync(_pid, TimeSpan.FromSeconds(20)))
        {
            Signals.Send(_pid, Signals.Kill);
            await Signals.WaitGoneAsync(_pid, TimeSpan.FromSeconds(10));
        }

        faults.Forget(Kind, _pid);
        _pid = 0;
    }

    internal static void Wipe(string dir)
    {
        foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo sub)
            {
                sub.Delete(recursive: true);
            }
            else
            {
                entry.Delete();
            }
        }
    }

    private static string Program(string name) =>
        File.Exists($"/usr/lib/rabbitmq/bin/{name}") ? $"/usr/lib/rabbitmq/bin/{name}" : name;

    private static bool Answers()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task AwaitStartupAsync()
    {
        // await_startup fails at once while the node is not registered yet, so ask again until it answers.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        CommandResult last;
        do
        {
            last = await CtlAsync("await_startup", "--timeout", "60");
            if (last.Succeeded && Answers())
            {
                return;
            }

            await Task.Delay(500);
        }
        while (DateTime.UtcNow < deadline);
        throw new InvalidOperationException(
            $"The fault suite's RabbitMQ node {Node} did not start within 120 s; see {_dir}/log. Last answer: {last.Output}");
    }
}
