using System.Globalization;
using System.Text;
using System.Text.Unicode;
using JobDedup.RabbitMq;

namespace JobDedup.Worker.Cli;

/// <summary>How the dead-letter commands print messages: pure functions of what was read and the current time.</summary>
internal static class DeadLetterText
{
    private const int BodyPreviewBytes = 512;

    /// <summary>One header line and one line per message: position, reason, attempts, age, key and message id.</summary>
    public static string List(string queue, uint total, IReadOnlyList<DeadLetter> deadLetters, DateTimeOffset now)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{total} dead letter{(total == 1 ? string.Empty : "s")} in '{queue}'");
        text.AppendLine(deadLetters.Count < total ? $", the first {deadLetters.Count} shown (--limit)" : string.Empty);
        if (deadLetters.Count == 0)
        {
            return text.ToString();
        }

        string[] heading = ["#", "reason", "attempts", "age", "key", "message id"];
        var rows = deadLetters.Select(d => new[]
        {
            d.Index.ToString(CultureInfo.InvariantCulture),
            d.Reason ?? "(none)",
            d.Attempts.ToString(CultureInfo.InvariantCulture),
            Age(d.FirstSeen, now),
            d.Key ?? "(none)",
            d.Properties.MessageId ?? "(none)",
        }).ToList();
        var widths = heading.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        AppendRow(text, heading, widths);
        foreach (var row in rows)
        {
            AppendRow(text, row, widths);
        }

        return text.ToString();
    }

    /// <summary>Everything about one message: what the consumer recorded, every header, and the start of the body.</summary>
    public static string Show(DeadLetter deadLetter, DateTimeOffset now)
    {
        var properties = deadLetter.Properties;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"message {deadLetter.Index}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  reason:       {deadLetter.Reason ?? "(none)"}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  error:        {deadLetter.Error ?? "(none)"}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  attempts:     {deadLetter.Attempts}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  first seen:   {(deadLetter.FirstSeen is { } seen ? $"{seen:yyyy-MM-dd HH:mm:ss}Z ({Age(seen, now)} ago)" : "(unknown)")}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  key:          {deadLetter.Key ?? "(none)"}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  source queue: {deadLetter.SourceQueue ?? "(none)"}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  message id:   {properties.MessageId ?? "(none)"}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  content type: {properties.ContentType ?? "(none)"}");
        text.AppendLine("headers:");
        foreach (var (name, _) in (properties.Headers ?? new Dictionary<string, object?>()).OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {name}: {deadLetter.Message.GetHeader(name) ?? "(not a simple value)"}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"body ({deadLetter.Body.Length} bytes{(deadLetter.Body.Length > BodyPreviewBytes ? $", the first {BodyPreviewBytes} shown" : string.Empty)}):");
        text.AppendLine(Preview(deadLetter.Body));
        return text.ToString();
    }

    /// <summary>A duration in its two largest units: <c>45s</c>, <c>3m 05s</c>, <c>2h 10m</c>, <c>4d 03h</c>.</summary>
    public static string Age(DateTimeOffset? since, DateTimeOffset now)
    {
        if (since is not { } start)
        {
            return "?";
        }

        var age = now - start;
        if (age < TimeSpan.Zero)
        {
            age = TimeSpan.Zero;
        }

        return age.TotalMinutes < 1 ? $"{(int)age.TotalSeconds}s"
            : age.TotalHours < 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalMinutes}m {age.Seconds:00}s")
            : age.TotalDays < 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalHours}h {age.Minutes:00}m")
            : string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalDays}d {age.Hours:00}h");
    }

    /// <summary>The body as text when it is UTF-8, else as hexadecimal.</summary>
    public static string Preview(byte[] body)
    {
        var shown = body.AsSpan(0, Math.Min(body.Length, BodyPreviewBytes));

        // A preview cut through a multi-byte character is still text: try up to three bytes shorter.
        for (var cut = 0; cut <= (body.Length > BodyPreviewBytes ? 3 : 0) && cut < shown.Length; cut++)
        {
            if (Utf8.IsValid(shown[..^cut]))
            {
                return Encoding.UTF8.GetString(shown[..^cut]);
            }
        }

        return shown.IsEmpty ? string.Empty : Convert.ToHexString(shown);
    }

    /// <summary>The list of reasons a consumer writes, for help texts.</summary>
    public static string Reasons => string.Join(", ", DeadLetterReasons.MissingKey, DeadLetterReasons.InvalidKey, DeadLetterReasons.UnreadableBody,
        DeadLetterReasons.Oversize, DeadLetterReasons.HandlerFailed, DeadLetterReasons.PermanentFailure);

    private static void AppendRow(StringBuilder text, string[] cells, int[] widths)
    {
        for (var i = 0; i < cells.Length; i++)
        {
            text.Append(i == cells.Length - 1 ? cells[i] : cells[i].PadRight(widths[i] + 2));
        }

        text.AppendLine();
    }
}
