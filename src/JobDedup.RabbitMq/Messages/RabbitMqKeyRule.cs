using System.Text.Json;

namespace JobDedup.RabbitMq;

/// <summary>Says where a delivery's dedupe key comes from.</summary>
public sealed class RabbitMqKeyRule
{
    private readonly Func<RabbitMqMessage, string?> _extract;

    private RabbitMqKeyRule(string description, Func<RabbitMqMessage, string?> extract)
    {
        Description = description;
        _extract = extract;
    }

    /// <summary>Gets the default rule: the <see cref="JobDedupHeaders.Key"/> header, else the message id.</summary>
    public static RabbitMqKeyRule Default { get; } = new(
        $"the '{JobDedupHeaders.Key}' header, else the message id",
        message => NullIfEmpty(HeaderKey(message, JobDedupHeaders.Key)) ?? NullIfEmpty(message.MessageId));

    /// <summary>Gets a readable description of the rule, used in errors and logs.</summary>
    public string Description { get; }

    /// <summary>Takes the key from the message id property.</summary>
    /// <returns>The rule.</returns>
    public static RabbitMqKeyRule MessageId() => new("the message id", message => NullIfEmpty(message.MessageId));

    /// <summary>Takes the key from a header.</summary>
    /// <param name="name">The header's name.</param>
    /// <returns>The rule.</returns>
    public static RabbitMqKeyRule Header(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new($"the '{name}' header", message => NullIfEmpty(HeaderKey(message, name)));
    }

    /// <summary>
    /// Takes the key from a property of the JSON body, given as a dotted path such as <c>id</c> or
    /// <c>data.object.id</c>. Strings are used as they are; numbers in their JSON form.
    /// </summary>
    /// <param name="path">The property path.</param>
    /// <returns>The rule.</returns>
    public static RabbitMqKeyRule JsonProperty(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var segments = path.Split('.');
        return new($"the JSON property '{path}' of the body", message => ReadJson(message.Body, segments));
    }

    /// <summary>Takes the key from a function of the message; null or empty means no key.</summary>
    /// <param name="extract">The function.</param>
    /// <param name="description">How to describe the rule in errors.</param>
    /// <returns>The rule.</returns>
    public static RabbitMqKeyRule From(Func<RabbitMqMessage, string?> extract, string description = "a custom function")
    {
        ArgumentNullException.ThrowIfNull(extract);
        return new(description, message => NullIfEmpty(extract(message)));
    }

    /// <summary>Returns the key, or <see langword="null"/> when the message has none.</summary>
    /// <param name="message">The message.</param>
    /// <returns>The key.</returns>
    /// <exception cref="JsonException">The body is not valid JSON or UTF-8 (for a JSON property rule).</exception>
    /// <exception cref="FormatException">The key header is there but neither text nor a number (table, array, boolean).</exception>
    public string? Extract(RabbitMqMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return _extract(message);
    }

    /// <inheritdoc/>
    public override string ToString() => Description;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>Reads a key header; one of a type that cannot be a key is an error, never a silent fall-back.</summary>
    private static string? HeaderKey(RabbitMqMessage message, string name)
    {
        if (!message.Headers.TryGetValue(name, out var value) || value is null)
        {
            return null;
        }

        return RabbitMqMessage.HeaderText(value) ?? throw new InvalidKeyException(
            $"The '{name}' header is a {value.GetType().Name}; a key header must be text or a number.");
    }

    private static string? ReadJson(ReadOnlyMemory<byte> body, string[] segments)
    {
        var reader = new Utf8JsonReader(body.Span, new JsonReaderOptions { MaxDepth = 64 });
        using var document = JsonDocument.ParseValue(ref reader);
        var element = document.RootElement;
        foreach (var segment in segments)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(segment, out element))
            {
                return null;
            }
        }

        return element.ValueKind switch
        {
            JsonValueKind.String => NullIfEmpty(ReadString(element)),
            JsonValueKind.Number => element.GetRawText(),
            _ => null,
        };
    }

    private static string? ReadString(JsonElement element)
    {
        try
        {
            return element.GetString();
        }
        catch (InvalidOperationException ex)
        {
            // The reader checks the JSON's structure, not the UTF-8 inside its strings.
            throw new JsonException("The key property is not valid UTF-8.", ex);
        }
    }
}
