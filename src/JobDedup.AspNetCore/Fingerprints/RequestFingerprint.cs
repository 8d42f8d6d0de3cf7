using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace JobDedup.AspNetCore.Fingerprints;

/// <summary>
/// The fingerprint of a request, as the engine compares it (for equality only): the method, the path and query, a
/// digest of the body (JSON in its canonical form, RFC 8785; other bodies as raw bytes) and, for a JSON object, a short
/// digest of each top-level member (the first <see cref="MaxMembers"/> by name), so that two fingerprints can be
/// compared member by member to name what changed without keeping any body.
/// Form: <c>v1 METHOD target body[ name=digest]*[ +]</c>, each part escaped so that it holds no space.
/// </summary>
internal static class RequestFingerprint
{
    /// <summary>The most top-level JSON members listed one by one; a body with more is compared as a whole beyond them.</summary>
    public const int MaxMembers = 64;

    /// <summary>The longest member name listed (escaped); a longer one counts only in the body's digest.</summary>
    public const int MaxNameLength = 96;

    private const string Version = "v1";
    private const int MemberDigestLength = 12;

    /// <summary>The length of the body's digest: an XxHash128.</summary>
    private const int BodyDigestBytes = 16;

    /// <summary>The most bytes set aside up front for a body, whatever length it declares.</summary>
    private const int InitialBufferLimit = 64 * 1024;

    /// <summary>The largest builder kept by a thread between two fingerprints.</summary>
    private const int MaxCachedTextCapacity = 4096;

    /// <summary>The largest list of members kept by a thread between two fingerprints.</summary>
    private const int MaxCachedMembers = 256;

    [ThreadStatic]
    private static StringBuilder? _cachedText;

    [ThreadStatic]
    private static List<CanonicalMember>? _cachedMembers;

    /// <summary>Reads the request's body (leaving it readable again for the endpoint) and returns the fingerprint.</summary>
    public static async ValueTask<string> ComputeAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        return Compose(request.Method, request.PathBase.Add(request.Path).ToUriComponent(), request.QueryString.ToUriComponent(), body.Span, IsJson(request));
    }

    /// <summary>
    /// Whether a request's body is JSON, as ASP.NET Core decides it (<c>application/json</c>, or any type with the
    /// <c>+json</c> suffix, parameters aside): the forms clients send are recognized without parsing the header, any
    /// other is parsed as ASP.NET Core parses it.
    /// </summary>
    internal static bool IsJson(HttpRequest request)
    {
        var contentType = request.ContentType;
        if (contentType is null)
        {
            return false;
        }

        return contentType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || contentType.Equals("application/json; charset=utf-8", StringComparison.OrdinalIgnoreCase)
            || request.HasJsonContentType();
    }

    /// <summary>
    /// Reads the whole body into memory once and puts those bytes back in the request's place, as its stream and as its
    /// pipe, so that the endpoint reads the same bytes again whichever it uses; a request that cannot have a body is
    /// not read.
    /// </summary>
    private static async ValueTask<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        // Read through the pipe: on Kestrel that is the server's own reader, with no stream adapter in between.
        var reader = request.BodyReader;
        byte[] body;
        var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted)
        {
            // The whole body at once, as a small body comes.
            body = result.Buffer.ToArray();
            reader.AdvanceTo(result.Buffer.End);
        }
        else
        {
            body = await ReadRestAsync(request, reader, result, cancellationToken).ConfigureAwait(false);
        }

        // The stream first: the pipe put back answers for the body only while the request's stream is this one.
        var stream = new MemoryStream(body, 0, body.Length, writable: false, publiclyVisible: true);
        request.Body = stream;
        request.HttpContext.Features.Set<IRequestBodyPipeFeature>(new BufferedBodyPipeFeature(request, stream, body, request.HttpContext.Features.Get<IRequestBodyPipeFeature>()));
        return body;
    }

    /// <summary>
    /// Reads a body that did not come in one read, consuming each read as it comes (the server stops reading from the
    /// connection while too much is left unconsumed), and returns it in an array of its exact length.
    /// </summary>
    private static async Task<byte[]> ReadRestAsync(HttpRequest request, PipeReader reader, ReadResult result, CancellationToken cancellationToken)
    {
        // Sized by the declared length, within reason: a declared length is only a hint until the body is read.
        var capacity = request.ContentLength is { } declared and > 0 ? (int)Math.Min(declared, InitialBufferLimit) : 0;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, (int)Math.Min(result.Buffer.Length * 2, int.MaxValue)));
        var length = 0;
        try
        {
            while (true)
            {
                var read = result.Buffer;
                if (buffer.Length - length < read.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max((long)buffer.Length * 2, length + read.Length), Array.MaxLength));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                read.CopyTo(buffer.AsSpan(length));
                length += (int)read.Length;
                reader.AdvanceTo(read.End);
                if (result.IsCompleted)
                {
                    return buffer.AsSpan(0, length).ToArray();
                }

                result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Builds the fingerprint of a request from its parts.</summary>
    public static string Compose(string method, string target, ReadOnlySpan<byte> body, bool isJson) =>
        Compose(method, target, string.Empty, body, isJson);

    /// <summary>Builds the fingerprint of a request from its parts, the target in two (path, then query).</summary>
    private static string Compose(string method, string path, string query, ReadOnlySpan<byte> body, bool isJson)
    {
        var text = _cachedText ?? new StringBuilder(128);
        _cachedText = null;
        try
        {
            text.Clear().Append(Version).Append(' ');

            // Escaped in parts as it was escaped whole: escaping goes char by char, and the path's escaped form is ASCII,
            // so no surrogate pair is split between the two.
            AppendEscaped(text, method.ToUpperInvariant());
            text.Append(' ');
            AppendEscaped(text, path);
            AppendEscaped(text, query);
            text.Append(' ');
            if (body.IsEmpty)
            {
                return text.Append('-').ToString();
            }

            if (!isJson || !TryAppendJson(text, body))
            {
                text.Append("b:");
                AppendDigest(text, body);
            }

            return text.ToString();
        }
        finally
        {
            if (text.Capacity <= MaxCachedTextCapacity)
            {
                _cachedText = text;
            }
        }
    }

    /// <summary>Reads a fingerprint back into its parts; <see langword="null"/> when it is not one of this form.</summary>
    public static FingerprintParts? Parse(string? fingerprint)
    {
        if (fingerprint is null)
        {
            return null;
        }

        var parts = fingerprint.Split(' ');
        if (parts.Length < 4 || parts[0] != Version)
        {
            return null;
        }

        var members = new Dictionary<string, string>(StringComparer.Ordinal);
        var truncated = false;
        foreach (var part in parts.AsSpan(4))
        {
            if (part == "+")
            {
                truncated = true;
                continue;
            }

            var equals = part.LastIndexOf('=');
            if (equals > 0)
            {
                members[Uri.UnescapeDataString(part[..equals])] = part[(equals + 1)..];
            }
        }

        return new FingerprintParts(Uri.UnescapeDataString(parts[1]), Uri.UnescapeDataString(parts[2]), parts[3], members, truncated);
    }

    private static bool TryAppendJson(StringBuilder text, ReadOnlySpan<byte> body)
    {
        var canonical = CanonicalJson.RentWriter();
        var members = _cachedMembers ?? [];
        _cachedMembers = null;
        try
        {
            // One pass writes the body's canonical form; each member's is a range of it, so each member's digest is
            // the digest of its value's canonical form, as if written alone.
            canonical.Write(body, members);
            AppendDigests(text, canonical, members);
            return true;
        }
        catch (JsonException)
        {
            // Not JSON after all (the endpoint will refuse it), or JSON without a canonical form (a member named
            // twice, say): compare it byte for byte. Nothing was appended: the writer refuses before the digests.
            return false;
        }
        finally
        {
            CanonicalJson.ReturnWriter(canonical);
            members.Clear();

            // A list grown by a very wide object is let go rather than held by the thread.
            if (members.Capacity <= MaxCachedMembers)
            {
                _cachedMembers = members;
            }
        }
    }

    /// <summary>Appends the digest of a canonical form and those of its members (sorted by name, as it lists them).</summary>
    private static void AppendDigests(StringBuilder text, CanonicalJson.CanonicalWriter writer, List<CanonicalMember> members)
    {
        var canonical = writer.Written;
        text.Append("j:");
        AppendDigest(text, canonical);

        // The canonical form refused a member named twice, so the names are distinct.
        var listed = 0;
        var truncated = false;
        foreach (var member in members)
        {
            if (listed == MaxMembers || !TryAppendName(text, writer.NameOf(member)))
            {
                truncated = true;
                continue;
            }

            text.Append('=');
            AppendMemberDigest(text, canonical.Slice(member.Start, member.Length));
            listed++;
        }

        if (truncated)
        {
            text.Append(" +");
        }
    }

    /// <summary>Appends a space and a member's escaped name, unless the name is too long to list.</summary>
    private static bool TryAppendName(StringBuilder text, ReadOnlySpan<char> name)
    {
        // Escaping never shortens a name: one too long as it is is too long escaped, and is not escaped to find out.
        if (name.Length > MaxNameLength)
        {
            return false;
        }

        text.Append(' ');
        if (!DataEscape.TryAppend(text, name, MaxNameLength))
        {
            text.Length--;
            return false;
        }

        return true;
    }

    /// <summary>
    /// Appends the lowercase hex XxHash128 of <paramref name="data"/>: the digest that decides whether two bodies are the
    /// same. It tells a client's repeat from its mistake (the same key for another request); it guards no secret, so it
    /// need not resist a forger: a sender who could forge a collision under a key could as well send the request itself.
    /// </summary>
    private static void AppendDigest(StringBuilder text, ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[BodyDigestBytes];
        XxHash128.Hash(data, digest);
        Span<char> hex = stackalloc char[BodyDigestBytes * 2];
        Convert.TryToHexStringLower(digest, hex, out var written);
        text.Append(hex[..written]);
    }

    /// <summary>
    /// Appends the lowercase hex of the first <see cref="MemberDigestLength"/> / 2 bytes (big-endian) of the XxHash3 of
    /// <paramref name="data"/>: a member's digest only names what changed between two requests; whether they are the same
    /// request is decided by the body's digest.
    /// </summary>
    private static void AppendMemberDigest(StringBuilder text, ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64BigEndian(digest, XxHash3.HashToUInt64(data));
        Span<char> hex = stackalloc char[MemberDigestLength];
        Convert.TryToHexStringLower(digest[..(MemberDigestLength / 2)], hex, out var written);
        text.Append(hex[..written]);
    }

    /// <summary>Appends <paramref name="value"/> escaped as <see cref="Uri.EscapeDataString(string)"/> does.</summary>
    private static void AppendEscaped(StringBuilder text, string value) => DataEscape.TryAppend(text, value, int.MaxValue);
}
