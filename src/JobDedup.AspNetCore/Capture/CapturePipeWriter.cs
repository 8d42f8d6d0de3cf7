using System.IO.Pipelines;

namespace JobDedup.AspNetCore.Capture;

/// <summary>
/// The response body writer while a response is held back: it hands out the capture buffer's own memory, so what the
/// endpoint writes is in the buffer at once (no copy on flush, nothing to flush).
/// </summary>
internal sealed class CapturePipeWriter(CaptureBuffer written) : PipeWriter
{
    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => 0;

    public override void Advance(int bytes) => written.Advance(bytes);

    public override Memory<byte> GetMemory(int sizeHint = 0) => written.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => written.GetSpan(sizeHint);

    public override void CancelPendingFlush()
    {
        // A flush never waits here.
    }

    public override void Complete(Exception? exception = null)
    {
        // The capture owns the buffer; the response is sent from it once the run ends.
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
        new(new FlushResult(isCanceled: false, isCompleted: false));
}
