using System.Buffers;

namespace JobDedup.AspNetCore.Capture;

/// <summary>
/// The response body stream while a response is held back: write-only, like the server's own, appending to the buffer
/// that the capture's pipe writer fills too, so that both ways of writing land in one buffer in the order written.
/// </summary>
internal sealed class CaptureStream(CaptureBuffer written) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException("The response body cannot be read or sought.");

    public override long Position
    {
        get => throw new NotSupportedException("The response body cannot be read or sought.");
        set => throw new NotSupportedException("The response body cannot be read or sought.");
    }

    public override void Flush()
    {
        // Held back until the run ends: nothing to flush.
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("The response body cannot be read.");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("The response body cannot be sought.");

    public override void SetLength(long value) => throw new NotSupportedException("The response body's length cannot be set.");

    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    public override void Write(ReadOnlySpan<byte> buffer) => written.Write(buffer);

    public override void WriteByte(byte value) => Write([value]);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer, offset, count);
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }
}
