using System.Text;

namespace JobDedup.Faults.Tests.Traffic;

/// <summary>A message a case publishes: <paramref name="Id"/> is its correlation id, unique in the case; the worker's reply and dead letter carry it back.</summary>
internal sealed record FaultMessage(string Id, byte[] Body, IReadOnlyDictionary<string, object?>? Headers = null, string? MessageId = null)
{
    /// <summary>A JSON job whose <c>id</c> is the dedupe key (the worker reads it with Key:Source=JsonProperty, Key:Name=id).</summary>
    public static FaultMessage Json(string id, string key) =>
        new(id, Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new { id = key, message = id })), new Dictionary<string, object?> { ["x-dedupe-key"] = Encoding.UTF8.GetBytes(key) });
}
