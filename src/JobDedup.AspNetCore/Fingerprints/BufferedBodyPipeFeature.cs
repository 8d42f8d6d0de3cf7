using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace JobDedup.AspNetCore.Fingerprints;

/// <summary>
/// The request's body pipe once the body has been read into memory: a reader over those bytes, so that an endpoint
/// reading <see cref="HttpRequest.BodyReader"/> (a minimal API binding JSON, say) reads them without a stream adapter.
/// </summary>
/// <remarks>
/// It answers for the body only while the request's stream is still the one over the same bytes; once something puts
/// another stream in its place, the pipe the request had before answers again, as it follows the request's stream.
/// </remarks>
internal sealed class BufferedBodyPipeFeature : IRequestBodyPipeFeature
{
    private readonly HttpRequest _request;
    private readonly Stream _stream;
    private readonly byte[] _body;
    private readonly IRequestBodyPipeFeature _previous;
    private PipeReader? _reader;

    /// <summary>Creates the pipe over <paramref name="body"/>, which <paramref name="stream"/> reads too.</summary>
    /// <param name="request">The request.</param>
    /// <param name="stream">The stream over the body that was put in the request's place.</param>
    /// <param name="body">The body.</param>
    /// <param name="previous">The pipe the request had, or <see langword="null"/> for the default one.</param>
    public BufferedBodyPipeFeature(HttpRequest request, Stream stream, byte[] body, IRequestBodyPipeFeature? previous)
    {
        _request = request;
        _stream = stream;
        _body = body;
        _previous = previous ?? new RequestBodyPipeFeature(request.HttpContext);
    }

    /// <inheritdoc/>
    public PipeReader Reader =>
        ReferenceEquals(_request.Body, _stream)
            ? _reader ??= PipeReader.Create(new ReadOnlySequence<byte>(_body))
            : _previous.Reader;
}
