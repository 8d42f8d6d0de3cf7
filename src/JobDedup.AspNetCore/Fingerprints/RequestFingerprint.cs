using System.Security.Cryptography;
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

    /// <summary>The most bytes set aside up front for a body, whatever length it declares.</summary>
    private const int InitialBufferLimit = 64 * 1024;

    /// <summary>Reads the request's body (leaving it readable again for the endpoint) and returns the fingerprint.</summary>
    public static async Task<string> ComputeAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        var target = request.PathBase.Add(request.Path).ToUriComponent() + request.QueryString.ToUriComponent();
        return Compose(request.Method, target, body, request.HasJsonContentType());
    }

    /// <summary>
    /// Reads the whole body into memory once and puts a stream over those bytes in the request's place, so that the
    /// endpoint reads the same bytes again; a request that cannot have a body is not read.
    /// </summary>
    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        // Sized by the declared length, within reason: a declared length is only a hint until the body is read.
        var capacity = request.ContentLength is { } declared and > 0 ? (int)Math.Min(declared, InitialBufferLimit) : 0;
        var buffer = new MemoryStream(capacity);
        await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        var length = (int)buffer.Length;
        request.Body = new MemoryStream(buffer.GetBuffer(), 0, length, writable: false, publiclyVisible: true);
        return buffer.GetBuffer().AsMemory(0, length);
    }

    /// <summary>Builds the fingerprint of a request from its parts.</summary>
    public static string Compose(string method, string target, ReadOnlySpan<byte> body, bool isJson) =>
        Compose(method, target, new ReadOnlyMemory<byte>(body.ToArray()), isJson);

    private static string Compose(string method, string target, ReadOnlyMemory<byte> body, bool isJson)
    {
        var text = new StringBuilder(128)
            .Append(Version).Append(' ')
            .Append(Escape(method.ToUpperInvariant())).Append(' ')
            .Append(Escape(target)).Append(' ');
        if (body.IsEmpty)
        {
            return text.Append('-').ToString();
        }

        if (!isJson || !TryAppendJson(text, body))
        {
            text.Append("b:").Append(JobFingerprint.FromBytes(body.Span));
        }

        return text.ToString();
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

    private static bool TryAppendJson(StringBuilder text, ReadOnlyMemory<byte> body)
    {
        // One parse serves the body's digest and every member's: each is the digest of a value's canonical form.
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            // Not JSON after all: the endpoint will refuse it; compare it byte for byte.
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            string digest;
            try
            {
                digest = JobFingerprint.FromJson(root, SHA256.HashSizeInBytes);
            }
            catch (JsonException)
            {
                // JSON without a canonical form (a member named twice, say): compare it byte for byte.
                return false;
            }

            text.Append("j:").Append(digest);
            if (root.ValueKind != JsonValueKind.Object)
            {
                return true;
            }

            // The canonical form refused a member named twice, so the names are distinct.
            var members = new List<JsonProperty>();
            foreach (var member in root.EnumerateObject())
            {
                members.Add(member);
            }

            members.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            var listed = 0;
            var truncated = false;
            foreach (var member in members)
            {
                var escaped = Escape(member.Name);
                if (listed == MaxMembers || escaped.Length > MaxNameLength)
                {
                    truncated = true;
                    continue;
                }

                text.Append(' ').Append(escaped).Append('=')
                    .Append(JobFingerprint.FromJson(member.Value, MemberDigestLength / 2));
                listed++;
            }

            if (truncated)
            {
                text.Append(" +");
            }
        }

        return true;
    }

    private static string Escape(string value) => Uri.EscapeDataString(value);
}
