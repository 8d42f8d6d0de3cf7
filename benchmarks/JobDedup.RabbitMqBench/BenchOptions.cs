using System.Globalization;

namespace JobDedup.RabbitMqBench;

/// <summary>The command line: how many messages, the prefetch every consumer uses, where the report goes.</summary>
internal sealed record BenchOptions(
    int Messages,
    int Prefetch,
    int Warmup,
    int Rounds,
    TimeSpan Budget,
    int BodyBytes,
    TimeSpan RunTimeout,
    string Uri,
    string? ReportDirectory,
    string Command,
    IReadOnlyList<string>? Only)
{
    public const string Usage = """
        usage: JobDedup.RabbitMqBench [options]
          --messages N     messages per measured run (default 200000)
          --prefetch N     prefetch of every consumer; MassTransit's concurrency limit too (default 200)
          --warmup N       messages per unmeasured warm-up run of each consumer (default messages/10, at most 20000; 0 for none)
          --rounds N       at most this many measured rounds, each running every consumer once, in turn (default 3)
          --budget S       start another round only if it should end within S seconds of the start (default 200);
                           the first round always runs
          --body-bytes N   approximate JSON body size (default 64)
          --timeout S      longest a publish or a consume phase may take, in seconds (default 120)
          --uri URI        broker (default $JOBDEDUP_RABBITMQ_URI or amqp://guest:guest@127.0.0.1:5672/)
          --report DIR     write DIR/rabbitmq.md and DIR/rabbitmq.svg
          --command TEXT   the command to show in the report (default: this program's command line)
          --only IDS       run only these consumers, comma-separated: raw, jobdedup-0, jobdedup-90, masstransit
                           (for profiling; no report is written)
        """;

    public static BenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Unexpected argument '{args[i]}'.");
            }

            values[args[i]] = args[++i];
        }

        var known = new[] { "--messages", "--prefetch", "--warmup", "--rounds", "--budget", "--body-bytes", "--timeout", "--uri", "--report", "--command", "--only" };
        if (values.Keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown)
        {
            throw new ArgumentException($"Unknown option '{unknown}'.");
        }

        var messages = Int(values, "--messages", 200_000, 1, 10_000_000);
        var prefetch = Int(values, "--prefetch", 200, 2, ushort.MaxValue);
        var options = new BenchOptions(
            messages,
            prefetch,
            Int(values, "--warmup", Math.Min(20_000, messages / 10), 0, 1_000_000),
            Int(values, "--rounds", 3, 1, 20),
            TimeSpan.FromSeconds(Int(values, "--budget", 200, 1, 86_400)),
            Int(values, "--body-bytes", 64, 32, 65_536),
            TimeSpan.FromSeconds(Int(values, "--timeout", 120, 5, 3600)),
            values.GetValueOrDefault("--uri") ?? (Environment.GetEnvironmentVariable("JOBDEDUP_RABBITMQ_URI") is { Length: > 0 } uri ? uri : "amqp://guest:guest@127.0.0.1:5672/"),
            values.GetValueOrDefault("--report"),
            values.GetValueOrDefault("--command") ?? "dotnet JobDedup.RabbitMqBench.dll" + string.Concat(args.Select(a => " " + a)),
            values.GetValueOrDefault("--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        if (options.Messages < 10)
        {
            throw new ArgumentException("--messages must be at least 10 (the duplicate workload groups 10 messages per key).");
        }

        return options;
    }

    private static int Int(Dictionary<string, string> values, string name, int fallback, int min, int max)
    {
        if (!values.TryGetValue(name, out var text))
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new ArgumentException($"{name} must be a whole number between {min} and {max}, not '{text}'.");
        }

        return value;
    }
}
