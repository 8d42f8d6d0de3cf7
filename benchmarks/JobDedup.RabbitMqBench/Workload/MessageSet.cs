using System.Text.Json;

namespace JobDedup.RabbitMqBench.Workload;

/// <summary>
/// The messages of one run. Each has a JSON body (<see cref="BenchJob"/>) and its dedupe key as the message id, the
/// way a webhook provider's redelivery keeps the event id. With duplicates, <see cref="GroupSize"/> consecutive
/// messages share one key, so duplicates sit next to each other in the queue and can meet inside one prefetch window.
/// </summary>
internal sealed class MessageSet
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public MessageSet(int count, int duplicatePercent, int bodyBytes)
    {
        if (duplicatePercent is not (0 or 90))
        {
            throw new ArgumentOutOfRangeException(nameof(duplicatePercent), duplicatePercent, "Only 0% and 90% duplicates are defined.");
        }

        Count = count;
        DuplicatePercent = duplicatePercent;
        GroupSize = duplicatePercent == 0 ? 1 : 10;
        BodyBytes = bodyBytes;
    }

    public int Count { get; }

    public int DuplicatePercent { get; }

    /// <summary>Gets how many consecutive messages share a key: 1 (all distinct) or 10 (90% duplicates).</summary>
    public int GroupSize { get; }

    public int BodyBytes { get; }

    /// <summary>Gets the number of distinct keys.</summary>
    public int DistinctKeys => (Count + GroupSize - 1) / GroupSize;

    /// <summary>A GUID-shaped key, so that every consumer (MassTransit reads message ids as GUIDs) takes it as it is.</summary>
    public string KeyOf(long index) => new Guid((int)(index / GroupSize), 0x4a44, 0x4242, 0, 0, 0, 0, 0, 0, 0, 0).ToString();

    public byte[] BodyOf(long index, string key)
    {
        var bare = JsonSerializer.SerializeToUtf8Bytes(new BenchJob(index, key, string.Empty), Json);
        var padding = Math.Max(0, BodyBytes - bare.Length);
        return padding == 0 ? bare : JsonSerializer.SerializeToUtf8Bytes(new BenchJob(index, key, new string('x', padding)), Json);
    }
}
