using System.Text.Json;

namespace JobDedup.PostgreSql.Serialization;

/// <summary>The default serializer: UTF-8 JSON through System.Text.Json.</summary>
internal sealed class JsonOutcomeSerializer(JsonSerializerOptions? options) : IOutcomeSerializer
{
    private readonly JsonSerializerOptions _options = options ?? JsonSerializerOptions.Default;

    public byte[] Serialize<TResult>(TResult value) => JsonSerializer.SerializeToUtf8Bytes(value, _options);

    public TResult Deserialize<TResult>(ReadOnlySpan<byte> data) => JsonSerializer.Deserialize<TResult>(data, _options)!;
}
