using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using JobDedup.Faults.Tests.Processes;
using JobDedup.Faults.Tests.Servers;
using JobDedup.Faults.Tests.Traffic;
using Xunit.Abstractions;

namespace JobDedup.Faults.Tests.Cases;

/// <summary>
/// One fault case: its queues on the suite's node, the downstream sink, the workers it starts, what it published and
/// what came back. Disposal kills the case's workers that still run and stops the sink, whatever the outcome.
/// </summary>
internal sealed class FaultCase : IAsyncDisposable
{
    public const string Pipeline = "faults";
    private readonly FaultServers _servers;
    private readonly ITestOutputHelper _output;
    private readonly List<FaultWorker> _workers = [];
    private readonly List<string> _queues = [];

    private FaultCase(FaultServers servers, ITestOutputHelper output, string name, CountingSink sink, FaultBroker broker, Stopwatch clock)
    {
        _servers = servers;
        _output = output;
        Name = name;
        Sink = sink;
        Broker = broker;
        Clock = clock;
        Prefix = $"faults.{name}.{Guid.NewGuid().ToString("N")[..6]}";
        _queues.Add(Prefix);
    }

    public string Name { get; }

    /// <summary>Gets the prefix of every queue of this case; the first work queue is named exactly this.</summary>
    public string Prefix { get; }

    public string Queue => Prefix;

    public string Replies => Prefix + ".replies";

    public CountingSink Sink { get; }

    public FaultBroker Broker { get; }

    public Ledger Ledger { get; } = new();

    public Stopwatch Clock { get; }

    public IReadOnlyList<FaultWorker> Workers => _workers;

    internal PrivateRabbitMq RabbitMq => _servers.RabbitMq;

    internal PrivatePostgres Postgres => _servers.Postgres;

    public static async Task<FaultCase> StartAsync(FaultServers servers, ITestOutputHelper output, string name)
    {
        var clock = Stopwatch.StartNew();
        var sink = await CountingSink.StartAsync(clock);
        var broker = new FaultBroker();
        var run = new FaultCase(servers, output, name, sink, broker, clock);
        await broker.DeclareQuorumQueueAsync(run.Replies);
        return run;
    }

    /// <summary>Adds a second work queue (for a worker with two pipelines); its dead letters are collected too.</summary>
    public string AddQueue(string suffix)
    {
        var name = $"{Prefix}-{suffix}";
        _queues.Add(name);
        return name;
    }

    /// <summary>
    /// The environment of one worker: one pipeline on the case's queue, keyed by the JSON body's <c>id</c>, a dedupe
    /// window, an HTTP handler posting to the sink under the worker's name, short broker retry delays; then the overrides.
    /// </summary>
    public Dictionary<string, string> Settings(string worker, params (string Name, string Value)[] overrides)
    {
        var p = $"JobDedup__Pipelines__{Pipeline}__";
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["JobDedup__RabbitMq__Uri"] = PrivateRabbitMq.Uri,
            ["JobDedup__RabbitMq__ConnectionName"] = $"{Name}:{worker}",
            ["JobDedup__ShutdownTimeout"] = "00:00:05",

            // Several workers run at once: each one's HTTP face on a port the system picks.
            ["JobDedup__Http__Port"] = "0",
            ["Logging__LogLevel__Npgsql"] = "Warning",
            [p + "Queue"] = Queue,
            [p + "Key__Source"] = "JsonProperty",
            [p + "Key__Name"] = "id",
            [p + "DedupeWindow"] = "00:30:00",
            [p + "MaxConcurrentHandlers"] = "16",
            [p + "RetryDelays__0"] = "00:00:01",
            [p + "Handler__Url"] = Sink.UrlFor(worker),
        };
        foreach (var (name, value) in overrides)
        {
            var key = name.StartsWith("JobDedup__", StringComparison.Ordinal) || name.StartsWith("Logging__", StringComparison.Ordinal) ? name : p + name;
            if (value.Length == 0)
            {
                settings.Remove(key);
            }
            else
            {
                settings[key] = value;
            }
        }

        return settings;
    }

    public static (string, string) PostgreSqlStore => ("PostgreSql", PrivatePostgres.ConnectionString);

    public FaultWorker StartWorker(string worker, IReadOnlyDictionary<string, string> settings)
    {
        var started = FaultWorker.Start(_servers.Directory, $"{Name}-{worker}", settings);
        _workers.Add(started);
        return started;
    }

    public async Task PublishAsync(IReadOnlyList<FaultMessage> messages, string? exchange = null, string? routingKey = null)
    {
        Ledger.Record(messages);
        await Broker.PublishAsync(exchange ?? string.Empty, routingKey ?? (exchange is null ? Queue : string.Empty), Replies, messages);
    }

    /// <summary>Takes the replies and dead letters that arrived since the last call.</summary>
    public async Task CollectAsync()
    {
        var replies = await Broker.TakeAllAsync(Replies);
        var dead = new List<RabbitMQ.Client.BasicGetResult>();
        foreach (var queue in _queues)
        {
            dead.AddRange(await Broker.TakeAllAsync(queue + ".dead"));
        }

        Ledger.File(replies, dead);
    }

    /// <summary>Collects until <paramref name="condition"/> holds; fails with the ledger and the workers' last lines if it does not within <paramref name="limit"/>.</summary>
    public async Task UntilAsync(Func<bool> condition, string what, TimeSpan limit)
    {
        var deadline = Clock.Elapsed + limit;
        while (true)
        {
            await CollectAsync();
            if (condition())
            {
                return;
            }

            if (Clock.Elapsed > deadline)
            {
                Assert.Fail($"Gave up after {limit.TotalSeconds:0} s waiting for: {what}. {Diagnostics()}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Waits until every published message was answered or dead-lettered.</summary>
    public Task SettledAsync(TimeSpan limit) => UntilAsync(() => Ledger.AllSettled, "every published message acked with an outcome or dead-lettered", limit);

    /// <summary>
    /// The end of every case: all settled, every worker still running stopped with SIGTERM (exit code 0), then
    /// published = acked + dead-lettered, each message once, and no message left in any queue of the case.
    /// </summary>
    public async Task FinishAsync(TimeSpan limit)
    {
        await SettledAsync(limit);
        foreach (var worker in _workers.Where(w => !w.HasExited))
        {
            var exit = await worker.TerminateAsync();
            Assert.True(exit == 0, $"{worker.Name} exited with {exit} on SIGTERM. {worker.Tail()}");
        }

        await CollectAsync();
        Ledger.AssertAccounted(Diagnostics());
        // The reply queue is a quorum queue, whose listed count lags behind; it is checked by taking from it instead.
        var left = (await QueueDepthsAsync()).Where(q => q.Value != 0 && q.Key != Replies).ToList();
        var stray = await Broker.TakeAllAsync(Replies);
        Assert.True(left.Count == 0 && stray.Count == 0, $"Messages left in queues: {string.Join(", ", left.Select(q => $"{q.Key}={q.Value}"))}; replies after the last collection: {stray.Count}. {Diagnostics()}");
        Note($"{Ledger.Summary()}; {Sink.Requests} handler runs; case took {Clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>Every queue of this case on the node, with its message count (ready and unacknowledged).</summary>
    public async Task<Dictionary<string, long>> QueueDepthsAsync()
    {
        var listed = (await PrivateRabbitMq.CtlAsync("list_queues", "name", "messages", "--formatter", "json", "-q")).OrThrow("list the queues");
        using var json = JsonDocument.Parse(listed.Output);
        return json.RootElement.EnumerateArray()
            .Select(q => (Name: q.GetProperty("name").GetString()!, Messages: q.GetProperty("messages").GetInt64()))
            .Where(q => q.Name.StartsWith(Prefix, StringComparison.Ordinal))
            .ToDictionary(q => q.Name, q => q.Messages, StringComparer.Ordinal);
    }

    /// <summary>Writes a figure to the test output and to the suite's measurements file (printed by scripts/faults.sh).</summary>
    public void Note(string text)
    {
        var line = $"{Name}: {text}";
        _output.WriteLine(line);
        File.AppendAllText(Path.Combine(_servers.Directory.Root, "measurements.txt"), line + Environment.NewLine);
    }

    /// <summary>Asserts the downstream saw each key exactly as often as <paramref name="expected"/> says (the rule in words for the failure message).</summary>
    public void AssertRuns(IEnumerable<string> keys, Func<string, int> expected, string rule)
    {
        var runs = Sink.RunsPerKey();
        var wrong = keys.Where(k => runs.GetValueOrDefault(k) != expected(k)).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} keys ran the wrong number of times ({rule}): {string.Join(", ", wrong.Take(10).Select(k => $"{k}={runs.GetValueOrDefault(k)}"))}");
    }

    /// <summary>
    /// Asserts every request the downstream received carried its key in the <c>Idempotency-Key</c> header
    /// (percent-encoded UTF-8), so that the downstream can drop a repeated run.
    /// </summary>
    public void AssertIdempotencyKeys()
    {
        var wrong = Sink.Runs.Where(r => r.Header("Idempotency-Key") is not { } value || Uri.UnescapeDataString(value) != r.Key).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} requests without their key as Idempotency-Key, e.g. {string.Join(", ", wrong.Take(5).Select(r => $"{r.Key[..Math.Min(20, r.Key.Length)]} sent '{r.Header("Idempotency-Key")}'"))}");
    }

    /// <summary>How long after <paramref name="since"/> the last of <paramref name="keys"/> ran its last run; zero if none ran.</summary>
    public TimeSpan LastRunOf(IReadOnlySet<string> keys, TimeSpan since)
    {
        var last = Sink.Runs.Where(r => keys.Contains(r.Key)).Select(r => r.At).DefaultIfEmpty(since).Max();
        return last - since;
    }

    public string Diagnostics() =>
        $"{Ledger.Summary()}; sink saw {Sink.Requests} requests, {Sink.Held} held.\n" + string.Join('\n', _workers.Select(w => w.Tail()));

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }

        await Sink.DisposeAsync();
        await Broker.DisposeAsync();
    }

    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
}
