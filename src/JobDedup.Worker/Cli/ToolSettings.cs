using JobDedup.RabbitMq;
using JobDedup.Worker.Pipelines;
using Microsoft.Extensions.Configuration;

namespace JobDedup.Worker.Cli;

/// <summary>
/// What the dead-letter commands need to know about one work queue, read from the worker's own settings
/// (appsettings.json and appsettings.{environment}.json beside the tool, then environment variables), so the tool talks
/// to the broker and keys messages exactly as the worker does.
/// </summary>
/// <param name="BrokerUri">The broker address: <c>--broker</c>, else <c>JobDedup:RabbitMq:Uri</c>.</param>
/// <param name="Queue">The work queue the dead letters came from.</param>
/// <param name="KeyRule">How the queue's pipeline reads a message's key; the default rule when no pipeline names the queue.</param>
/// <param name="Partitions">The pipeline's partitions: above 0, replays go to the queue's consistent-hash exchange.</param>
internal sealed record ToolSettings(string BrokerUri, string Queue, RabbitMqKeyRule KeyRule, int Partitions)
{
    /// <summary>Gets the dead-letter queue the consumer of <see cref="Queue"/> writes to.</summary>
    public string DeadLetterQueue => $"{Queue}.dead";

    /// <summary>Reads the settings for <paramref name="queue"/>.</summary>
    /// <exception cref="InvalidOperationException">A setting is unknown or cannot be read (the message names it).</exception>
    public static ToolSettings Read(string queue, string? broker)
    {
        var environment = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? "Production";
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{environment}.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
        if (WorkerPipelines.CheckReadable(configuration) is [_, ..] problems)
        {
            throw new InvalidOperationException(string.Join(" ", problems));
        }

        var settings = WorkerPipelines.Read(configuration);
        var pipeline = settings.Pipelines.Values.FirstOrDefault(p => string.Equals(p.Queue, queue, StringComparison.Ordinal));
        return new ToolSettings(
            broker ?? settings.RabbitMq.Uri,
            queue,
            pipeline is null ? RabbitMqKeyRule.Default : WorkerPipelines.KeyRule(pipeline),
            pipeline?.Partitions ?? 0);
    }
}
