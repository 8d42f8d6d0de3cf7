using System.Globalization;

namespace JobDedup.LoadTest;

/// <summary>Command-line settings; the defaults are the original demo's load.</summary>
internal sealed class LoadTestOptions
{
    public const string Usage = """
        usage: JobDedup.LoadTest --url http://127.0.0.1:PORT [options]
          --url URL          the web sample's address (required)
          --requests N       requests per run (default 1000)
          --concurrency N    wave size, and workers in the closed loop (default 100)
          --product ID       the product every request asks for (default 1)
          --shapes LIST      original,workers (default both); original = the original demo's shape
          --output DIR       where web.md and web-latency.svg go (default docs/benchmarks); "none" writes nothing
          --target X         the ratio the original shape should reach (default 27)
          --command TEXT     the command to record in the report (default: this tool's command line)
        """;

    public Uri? Url { get; private set; }

    public int Requests { get; private set; } = 1000;

    public int Concurrency { get; private set; } = 100;

    public int ProductId { get; private set; } = 1;

    public IReadOnlyList<LoadShape> Shapes { get; private set; } = [LoadShape.Waves, LoadShape.Workers];

    public string? Output { get; private set; } = "docs/benchmarks";

    public double TargetRatio { get; private set; } = 27;

    public string? Command { get; private set; }

    /// <summary>Reads the arguments; returns null with a message on <paramref name="error"/> when they are wrong.</summary>
    public static LoadTestOptions? Parse(string[] args, out string? error)
    {
        var options = new LoadTestOptions();
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (i + 1 >= args.Length)
            {
                error = $"{name} needs a value";
                return null;
            }

            var value = args[++i];
            switch (name)
            {
                case "--url":
                    options.Url = Uri.TryCreate(value, UriKind.Absolute, out var url) ? url : null;
                    break;
                case "--requests":
                    options.Requests = PositiveInt(value);
                    break;
                case "--concurrency":
                    options.Concurrency = PositiveInt(value);
                    break;
                case "--product":
                    options.ProductId = PositiveInt(value);
                    break;
                case "--shapes":
                    options.Shapes = [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ShapeOf)];
                    break;
                case "--output":
                    options.Output = value == "none" ? null : value;
                    break;
                case "--target":
                    options.TargetRatio = double.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--command":
                    options.Command = value;
                    break;
                default:
                    error = $"unknown option {name}";
                    return null;
            }
        }

        if (options.Url is null)
        {
            error = "--url is required";
            return null;
        }

        return options;
    }

    private static int PositiveInt(string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new FormatException($"'{value}' is not a positive whole number");

    private static LoadShape ShapeOf(string value) => value switch
    {
        "original" or "waves" => LoadShape.Waves,
        "workers" => LoadShape.Workers,
        _ => throw new FormatException($"'{value}' is not a load shape (original, workers)"),
    };
}
