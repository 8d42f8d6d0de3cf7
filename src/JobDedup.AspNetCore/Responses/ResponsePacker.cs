using System.Buffers.Binary;
using System.Collections.ObjectModel;
using System.Text;
using JobDedup.Outcomes;

namespace JobDedup.AspNetCore.Responses;

/// <summary>
/// Packs each response the in-memory window keeps into one array: status, attempts, completion time, the request's
/// fingerprint, the kept headers and the body. Kept as they are, a response and its fingerprint are four objects for
/// the garbage collector to copy and mark while they are kept (a window of 10,000 answers turns over every few seconds
/// under load); packed, one. The arrays are allocated on the pinned object heap, which is collected with the oldest
/// generation only, so a kept answer is never copied from one generation to the next; and the array of an answer the
/// window lets go is taken back and reused for the next one of its size class, so a full window under a stream of new
/// keys allocates nothing for the answers it keeps.
/// </summary>
/// <remarks>
/// Layout, little-endian: a format byte; the status, the attempts (int32 each); the completion time (UTC ticks, int64;
/// its offset in minutes, int16); the length of the headers' bytes and of the body (int32 each); the fingerprint; the
/// headers (their count, then for each its name and its values); the body. A string (the fingerprint, a header's name
/// or value) is an int32 length and its UTF-8, the length -1 for null. The array is rounded up to its size class; what
/// follows the body is unused. Responses of one endpoint mostly keep the same
/// headers, so the headers last packed and last unpacked are remembered, and their bytes or their collection reused.
/// </remarks>
internal sealed class ResponsePacker : IOutcomePacker<IdempotentResponse>
{
    /// <summary>
    /// The largest body packed. A larger one is kept as it is: its few objects cost little beside its bytes, and packed
    /// it would be copied again for every replay.
    /// </summary>
    public const int MaxPackedBodyBytes = 16 * 1024;

    private const byte Format = 1;
    private const int FixedLength = 1 + 4 + 4 + 8 + 2 + 4 + 4;

    private readonly Lock _poolLock = new();

    // Sized in steps of 64 bytes; at most 8 of a size and 1 MiB in all are kept (a full window gives one back for each
    // one it takes, so a handful serves any number of requests), arrays of sizes no longer asked for giving way.
    private readonly PinnedArrayPool<byte> _pool = new(sizeStep: 64, maxPerSize: 8, maxPooledLength: 1024 * 1024);
    private PackedHeaders? _lastPacked;
    private PackedHeaders? _lastUnpacked;

    /// <summary>Gets the packer. It holds only the headers last seen and arrays given back for reuse, so one serves every window.</summary>
    public static ResponsePacker Instance { get; } = new();

    /// <inheritdoc/>
    public bool TryPack(in StoredOutcome<IdempotentResponse> outcome, out byte[] packed)
    {
        // A kept failure (not one the HTTP layer keeps) stays as it is.
        if (outcome.Value is not { } response || outcome.Failure is not null || response.Body.Length > MaxPackedBodyBytes)
        {
            packed = [];
            return false;
        }

        var headers = HeaderBytes(response.Headers);
        packed = Rent(FixedLength + StringLength(outcome.Fingerprint) + headers.Length + response.Body.Length);
        var span = packed.AsSpan();
        span[0] = Format;
        BinaryPrimitives.WriteInt32LittleEndian(span[1..], response.StatusCode);
        BinaryPrimitives.WriteInt32LittleEndian(span[5..], outcome.Attempts);
        BinaryPrimitives.WriteInt64LittleEndian(span[9..], outcome.CompletedAt.UtcTicks);
        BinaryPrimitives.WriteInt16LittleEndian(span[17..], (short)outcome.CompletedAt.Offset.TotalMinutes);
        BinaryPrimitives.WriteInt32LittleEndian(span[19..], headers.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span[23..], response.Body.Length);
        var at = FixedLength + WriteString(span[FixedLength..], outcome.Fingerprint);
        headers.CopyTo(span[at..]);
        at += headers.Length;
        response.Body.CopyTo(span[at..]);
        return true;
    }

    /// <inheritdoc/>
    public StoredOutcome<IdempotentResponse> Unpack(byte[] packed)
    {
        var span = packed.AsSpan();
        if (span.Length < FixedLength || span[0] != Format)
        {
            throw new ArgumentException("The array is not a response packed by this packer.", nameof(packed));
        }

        var status = BinaryPrimitives.ReadInt32LittleEndian(span[1..]);
        var attempts = BinaryPrimitives.ReadInt32LittleEndian(span[5..]);
        var utcTicks = BinaryPrimitives.ReadInt64LittleEndian(span[9..]);
        var offset = TimeSpan.FromMinutes(BinaryPrimitives.ReadInt16LittleEndian(span[17..]));
        var headersLength = BinaryPrimitives.ReadInt32LittleEndian(span[19..]);
        var bodyLength = BinaryPrimitives.ReadInt32LittleEndian(span[23..]);
        var at = FixedLength;
        var fingerprint = ReadString(span, ref at);
        var headers = Headers(span.Slice(at, headersLength));
        at += headersLength;
        var response = new IdempotentResponse(status, headers, span.Slice(at, bodyLength).ToArray()) { Keep = true };
        return new StoredOutcome<IdempotentResponse>(response, attempts, new DateTimeOffset(utcTicks, TimeSpan.Zero).ToOffset(offset))
        {
            Fingerprint = fingerprint,
        };
    }

    /// <inheritdoc/>
    public void Recycle(byte[] packed)
    {
        lock (_poolLock)
        {
            _pool.Return(packed);
        }
    }

    /// <summary>An array of at least <paramref name="length"/> bytes, rounded up to its size class: one given back, or a new one.</summary>
    private byte[] Rent(int length)
    {
        lock (_poolLock)
        {
            if (_pool.TryRentPooled(length, out var reused))
            {
                return reused;
            }
        }

        return _pool.Allocate(length);
    }

    /// <summary>The headers' bytes; those of the collection last packed again when it is the same collection.</summary>
    private byte[] HeaderBytes(IReadOnlyDictionary<string, string[]> headers)
    {
        if (Volatile.Read(ref _lastPacked) is { } last && ReferenceEquals(last.Headers, headers))
        {
            return last.Bytes;
        }

        var bytes = WriteHeaders(headers);
        Volatile.Write(ref _lastPacked, new PackedHeaders(headers, bytes));
        return bytes;
    }

    /// <summary>The headers read back; the collection last unpacked again when the bytes are the same.</summary>
    private IReadOnlyDictionary<string, string[]> Headers(ReadOnlySpan<byte> bytes)
    {
        if (Volatile.Read(ref _lastUnpacked) is { } last && bytes.SequenceEqual(last.Bytes))
        {
            return last.Headers;
        }

        var headers = ReadHeaders(bytes);
        Volatile.Write(ref _lastUnpacked, new PackedHeaders(headers, bytes.ToArray()));
        return headers;
    }

    private static byte[] WriteHeaders(IReadOnlyDictionary<string, string[]> headers)
    {
        var length = 4;
        foreach (var (name, values) in headers)
        {
            length += StringLength(name) + 4;
            foreach (var value in values)
            {
                length += StringLength(value);
            }
        }

        var bytes = new byte[length];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteInt32LittleEndian(span, headers.Count);
        var at = 4;
        foreach (var (name, values) in headers)
        {
            at += WriteString(span[at..], name);
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], values.Length);
            at += 4;
            foreach (var value in values)
            {
                at += WriteString(span[at..], value);
            }
        }

        return bytes;
    }

    /// <summary>The bytes <see cref="WriteString"/> writes for <paramref name="value"/>.</summary>
    private static int StringLength(string? value) => 4 + (value is null ? 0 : Encoding.UTF8.GetByteCount(value));

    private static int WriteString(Span<byte> span, string? value)
    {
        if (value is null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span, -1);
            return 4;
        }

        var written = Encoding.UTF8.GetBytes(value, span[4..]);
        BinaryPrimitives.WriteInt32LittleEndian(span, written);
        return 4 + written;
    }

    private static ReadOnlyDictionary<string, string[]> ReadHeaders(ReadOnlySpan<byte> span)
    {
        var count = BinaryPrimitives.ReadInt32LittleEndian(span);
        var at = 4;
        var headers = new Dictionary<string, string[]>(count, StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < count; i++)
        {
            var name = ReadString(span, ref at)!;
            var values = new string[BinaryPrimitives.ReadInt32LittleEndian(span[at..])];
            at += 4;
            for (var v = 0; v < values.Length; v++)
            {
                values[v] = ReadString(span, ref at)!;
            }

            headers[name] = values;
        }

        // Read-only, as kept headers are: it may be shared by many replays.
        return new ReadOnlyDictionary<string, string[]>(headers);
    }

    private static string? ReadString(ReadOnlySpan<byte> span, ref int at)
    {
        var length = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
        at += 4;
        if (length < 0)
        {
            return null;
        }

        var value = Encoding.UTF8.GetString(span.Slice(at, length));
        at += length;
        return value;
    }

    /// <summary>A header collection and its packed bytes.</summary>
    private sealed record PackedHeaders(IReadOnlyDictionary<string, string[]> Headers, byte[] Bytes);
}
