using JobDedup.AspNetCore.Capture;

namespace JobDedup.AspNetCore.Tests.Execution;

/// <summary>A held-back response body is written into a pooled array that grows as needed and is refused once given back.</summary>
public sealed class CaptureBufferTests
{
    [Fact]
    public void Write_ManyPiecesPastTheFirstArray_KeepsEveryByteInOrder()
    {
        var expected = Enumerable.Range(0, 50_000).Select(i => (byte)(i * 7)).ToArray();
        using var buffer = new CaptureBuffer();

        for (var offset = 0; offset < expected.Length;)
        {
            // Pieces of odd sizes, asked for with and without a size hint.
            var piece = Math.Min(1 + (offset % 1_777), expected.Length - offset);
            var span = buffer.GetSpan(offset % 2 == 0 ? piece : 0);
            var count = Math.Min(piece, span.Length);
            expected.AsSpan(offset, count).CopyTo(span);
            buffer.Advance(count);
            offset += count;
        }

        Assert.Equal(expected.Length, buffer.WrittenCount);
        Assert.Equal(expected, buffer.ToArray());
    }

    [Fact]
    public void GetMemory_AfterTheCaptureEnded_IsRefused()
    {
        var buffer = new CaptureBuffer();
        buffer.GetSpan(3)[..3].Fill(1);
        buffer.Advance(3);
        buffer.Dispose();

        Assert.Throws<ObjectDisposedException>(() => buffer.GetMemory(1));
        Assert.Throws<ObjectDisposedException>(() => buffer.Advance(1));
        Assert.Throws<ObjectDisposedException>(() => buffer.ToArray());
        buffer.Dispose(); // twice is harmless
    }

    [Fact]
    public void Advance_PastTheMemoryHandedOut_IsRefused()
    {
        using var buffer = new CaptureBuffer();
        var length = buffer.GetSpan(10).Length;

        Assert.Throws<InvalidOperationException>(() => buffer.Advance(length + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Advance(-1));
        Assert.Equal(0, buffer.WrittenCount);
    }
}
