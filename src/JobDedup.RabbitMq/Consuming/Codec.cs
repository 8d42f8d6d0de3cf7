using System.Text;
using System.Text.Json;

namespace JobDedup.RabbitMq.Consuming;

/// <summary>The default ways a body becomes a job and a result becomes a reply.</summary>
internal static class Codec<TJob, TResult>
{
    public static Func<RabbitMqMessage, TJob> Deserializer(RabbitMqConsumerOptions<TJob, TResult> options)
    {
        if (options.Deserializer is { } custom)
        {
            return custom;
        }

        if (typeof(TJob) == typeof(RabbitMqMessage))
        {
            return static message => (TJob)(object)message;
        }

        if (typeof(TJob) == typeof(byte[]))
        {
            return static message => (TJob)(object)message.Body.ToArray();
        }

        if (typeof(TJob) == typeof(string))
        {
            return static message => (TJob)(object)Encoding.UTF8.GetString(message.Body.Span);
        }

        var json = options.JsonOptions;
        return message => JsonSerializer.Deserialize<TJob>(message.Body.Span, json)!;
    }

    public static Func<TResult, byte[]> ReplySerializer(RabbitMqConsumerOptions<TJob, TResult> options)
    {
        if (options.ReplySerializer is { } custom)
        {
            return custom;
        }

        if (typeof(TResult) == typeof(byte[]))
        {
            return static value => (byte[])(object)value!;
        }

        if (typeof(TResult) == typeof(string))
        {
            return static value => Encoding.UTF8.GetBytes((string)(object)value! ?? string.Empty);
        }

        var json = options.JsonOptions;
        return value => JsonSerializer.SerializeToUtf8Bytes(value, json);
    }
}
