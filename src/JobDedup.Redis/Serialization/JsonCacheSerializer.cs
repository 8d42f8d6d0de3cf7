using System.Text.Json;

namespace JobDedup.Redis.Serialization;

/// <summary>The default serializer: UTF-8 JSON through System.Text.Json.</summary>
internal sealed class JsonCacheSerializer(JsonSerializerOptions? options) : ICacheSerializer
{
    private readonly JsonSerializerOptions _options = options ?? JsonSerializerOptions.Default;

    public byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, _options);

    public T Deserialize<T>(ReadOnlySpan<byte> data) => JsonSerializer.Deserialize<T>(data, _options)!;
}
