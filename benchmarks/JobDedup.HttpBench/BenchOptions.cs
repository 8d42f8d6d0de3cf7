using JobDedup.Bench.Reporting.Text;

namespace JobDedup.HttpBench;

/// <summary>The tool's settings, from its command line.</summary>
/// <param name="Output">The folder the page is written to.</param>
/// <param name="Command">The command a reader types to run it again, quoted on the page.</param>
/// <param name="Postgres">The PostgreSQL connection string for the database guard, or <see langword="null"/> to leave it out.</param>
/// <param name="Rounds">Rounds per contender in the throughput scenarios.</param>
/// <param name="RoundTime">The longest one round runs.</param>
/// <param name="Concurrency">Concurrent request loops in the throughput scenarios.</param>
/// <param name="BurstSize">Same-key POSTs sent at once in the burst scenario.</param>
/// <param name="Bursts">Bursts per contender, each on a fresh key.</param>
internal sealed record BenchOptions(
    string Output,
    string Command,
    string? Postgres,
    int Rounds,
    TimeSpan RoundTime,
    int Concurrency,
    int BurstSize,
    int Bursts)
{
    /// <summary>The most requests one round sends, whatever its time limit.</summary>
    public const int MaxRequestsPerRound = 200_000;

    /// <summary>Reads the options; anything not given takes the default a full run uses.</summary>
    public static BenchOptions Parse(string[] args)
    {
        string? Option(string name) => CommandLine.Option(args, name);

        int Number(string name, int fallback, int min, int max)
        {
            if (Option(name) is not { } text)
            {
                return fallback;
            }

            return int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
                ? value
                : throw new ArgumentException($"{name} must be a whole number from {min} to {max}, not '{text}'.");
        }

        return new BenchOptions(
            Option("--output") ?? "docs/benchmarks",
            Option("--command") ?? "scripts/bench.sh http",
            Option("--postgres") is { Length: > 0 } postgres ? postgres : null,
            Number("--rounds", 6, 1, 10),
            TimeSpan.FromSeconds(Number("--seconds", 3, 1, 30)),
            Number("--concurrency", 8, 1, 64),
            Number("--burst", 100, 2, 200),
            Number("--bursts", 5, 1, 20));
    }
}
