using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace JobDedup.AspNetCore.Capture;

/// <summary>
/// Holds back everything an endpoint writes (through the body stream, the body writer or a file send) in memory while
/// it runs, so that the response can be kept and shared before it is sent. Status code and headers stay on the
/// response itself, which has not started. Disposing puts the real body back.
/// </summary>
internal sealed class ResponseCapture : IHttpResponseBodyFeature, IDisposable
{
    private readonly HttpContext _context;
    private readonly IHttpResponseBodyFeature _original;
    private readonly CaptureBuffer _buffer = new();
    private CaptureStream? _stream;
    private CapturePipeWriter? _writer;

    private ResponseCapture(HttpContext context, IHttpResponseBodyFeature original)
    {
        _context = context;
        _original = original;
    }

    public Stream Stream => _stream ??= new CaptureStream(_buffer);

    public PipeWriter Writer => _writer ??= new CapturePipeWriter(_buffer);


    /// <summary>Puts a capture in front of the response's body.</summary>
    public static ResponseCapture Start(HttpContext context)
    {
        var original = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        var capture = new ResponseCapture(context, original);
        context.Features.Set<IHttpResponseBodyFeature>(capture);
        return capture;
    }

    public void DisableBuffering()
    {
        // Everything is held back until the run ends; there is nothing to flush early.
    }

    public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        SendFileFallback.SendFileAsync(Stream, path, offset, count, cancellationToken);

    public Task CompleteAsync() => Task.CompletedTask;

    /// <summary>Returns the bytes written so far.</summary>
    public byte[] ToArray() => _buffer.ToArray();

    /// <summary>Puts the real body back and gives the buffer back to the pool; take what is kept first.</summary>
    public void Dispose()
    {
        if (ReferenceEquals(_context.Features.Get<IHttpResponseBodyFeature>(), this))
        {
            _context.Features.Set(_original);
        }

        _buffer.Dispose();
    }
}
