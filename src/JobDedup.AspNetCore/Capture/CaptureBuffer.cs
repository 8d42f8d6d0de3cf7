using System.Buffers;

namespace JobDedup.AspNetCore.Capture;

/// <summary>
/// Where a held-back response's body is written: an array from the shared pool, grown by doubling, given back when the
/// capture ends (what is kept is copied out first). A write after that is refused rather than landing in an array the
/// pool may have lent to someone else.
/// </summary>
internal sealed class CaptureBuffer : IBufferWriter<byte>, IDisposable
{
    /// <summary>The first array's size: most answers of an API fit in it.</summary>
    private const int InitialSize = 4096;

    private byte[]? _array = ArrayPool<byte>.Shared.Rent(InitialSize);
    private int _written;

    /// <summary>Gets how many bytes were written.</summary>
    public int WrittenCount => _written;

    public void Advance(int count)
    {
        var array = ArrayOrThrow();
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > array.Length - _written)
        {
            throw new InvalidOperationException($"Advanced {count} bytes past the end of the memory handed out.");
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => Reserve(sizeHint).AsMemory(_written);

    public Span<byte> GetSpan(int sizeHint = 0) => Reserve(sizeHint).AsSpan(_written);

    /// <summary>Returns a copy of the bytes written.</summary>
    public byte[] ToArray() => ArrayOrThrow().AsSpan(0, _written).ToArray();

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _array, null) is { } array)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    private byte[] Reserve(int sizeHint)
    {
        var array = ArrayOrThrow();
        var needed = Math.Max(sizeHint, 1);
        if (array.Length - _written >= needed)
        {
            return array;
        }

        var size = (int)Math.Min(Math.Max((long)array.Length * 2, (long)_written + needed), Array.MaxLength);
        if (size - _written < needed)
        {
            throw new InvalidOperationException("The response body is too large to hold back in memory.");
        }

        var larger = ArrayPool<byte>.Shared.Rent(size);
        array.AsSpan(0, _written).CopyTo(larger);

        // A late write racing the capture's end must neither bring the buffer back nor give an array back twice.
        if (Interlocked.CompareExchange(ref _array, larger, array) != array)
        {
            ArrayPool<byte>.Shared.Return(larger);
            throw Disposed();
        }

        ArrayPool<byte>.Shared.Return(array);
        return larger;
    }

    private byte[] ArrayOrThrow() => Volatile.Read(ref _array) ?? throw Disposed();

    private static ObjectDisposedException Disposed() =>
        new(nameof(CaptureBuffer), "The response was already captured; an endpoint cannot write to it after it ended.");
}
