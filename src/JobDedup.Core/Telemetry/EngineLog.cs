using Microsoft.Extensions.Logging;

namespace JobDedup.Telemetry;

/// <summary>
/// One deduplicator's logger and name. Writes through here never throw: a failing logging provider must not stop an
/// outcome from being delivered or a loop from going on.
/// </summary>
internal sealed class EngineLog(ILogger logger, string name)
{
    public string Name { get; } = name;

    public void Write<TState>(Action<ILogger, string, TState> log, TState state)
    {
        try
        {
            log(logger, Name, state);
        }
        catch (Exception)
        {
            // The logging provider failed; the engine goes on.
        }
    }
}
