using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace JobDedup.Redis.Tests.Support;

/// <summary>Collects log events so that tests can count them.</summary>
public sealed class LogSink : ILoggerFactory, ILoggerProvider
{
    private readonly ConcurrentQueue<(EventId Id, string Message)> _events = new();

    public IReadOnlyList<(EventId Id, string Message)> Events => [.. _events];

    public int Count(int eventId) => _events.Count(e => e.Id.Id == eventId);

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
            sink._events.Enqueue((eventId, formatter(state, exception)));
    }
}
