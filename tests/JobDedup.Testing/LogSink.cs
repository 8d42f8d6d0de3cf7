using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace JobDedup.Testing;

/// <summary>Collects log events (id, level, message) so that tests can count them.</summary>
public sealed class LogSink : ILoggerFactory
{
    private readonly ConcurrentQueue<(EventId Id, LogLevel Level, string Message)> _events = new();

    public IReadOnlyList<(EventId Id, LogLevel Level, string Message)> Events => [.. _events];

    public int Count(int eventId) => _events.Count(e => e.Id.Id == eventId);

    public int CountAtLeast(LogLevel level) => _events.Count(e => e.Level >= level);

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(LogSink sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            sink._events.Enqueue((eventId, logLevel, formatter(state, exception)));
    }
}
