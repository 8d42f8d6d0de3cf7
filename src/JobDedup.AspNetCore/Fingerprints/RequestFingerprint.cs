using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

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

    /// <summary>Reads the request's body (leaving it readable again for the endpoint) and returns the fingerprint.</summary>
    public static async Task<string> ComputeAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        request.EnableBuffering();
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, cancellationToken).ConfigureAwait(false);
        request.Body.Position = 0;
        var target = request.PathBase.Add(request.Path).ToUriComponent() + request.QueryString.ToUriComponent();
        return Compose(request.Method, target, body.GetBuffer().AsSpan(0, (int)body.Length), request.HasJsonContentType());
    }

    /// <summary>Builds the fingerprint of a request from its parts.</summary>
    public static string Compose(string method, string target, ReadOnlySpan<byte> body, bool isJson)
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
            text.Append("b:").Append(JobFingerprint.FromBytes(body));
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

    private static bool TryAppendJson(StringBuilder text, ReadOnlySpan<byte> body)
    {
        string digest;
        JsonDocument document;
        try
        {
            digest = JobFingerprint.FromJson(body);
            document = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException)
        {
            // Not JSON after all: the endpoint will refuse it; compare it byte for byte.
            return false;
        }

        using (document)
        {
            text.Append("j:").Append(digest);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return true;
            }

            var members = document.RootElement.EnumerateObject()
                .Select(m => m.Name)
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal)
                .ToList();
            var listed = 0;
            var truncated = false;
            foreach (var name in members)
            {
                var escaped = Escape(name);
                if (listed == MaxMembers || escaped.Length > MaxNameLength)
                {
                    truncated = true;
                    continue;
                }

                var value = document.RootElement.GetProperty(name).GetRawText();
                text.Append(' ').Append(escaped).Append('=')
                    .Append(JobFingerprint.FromJson(Encoding.UTF8.GetBytes(value).AsSpan()).AsSpan(0, MemberDigestLength));
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
