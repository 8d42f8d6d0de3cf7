using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace PaymentWebhooks.Tests.Support;

/// <summary>Keeps every log event of the app, at every level: the formatted text, each structured value, scopes and exceptions.</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<(int EventId, string Text)> _events = new();

    public IReadOnlyCollection<(int EventId, string Text)> Events => _events;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private static string Describe(object? state) =>
        state is IEnumerable<KeyValuePair<string, object?>> values
            ? string.Join("; ", values.Select(v => $"{v.Key}={v.Value}"))
            : state?.ToString() ?? string.Empty;

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            owner._events.Enqueue((0, $"{category} scope {Describe(state)}"));
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._events.Enqueue((eventId.Id, $"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)} | {Describe(state)} | {exception}"));
    }
}
