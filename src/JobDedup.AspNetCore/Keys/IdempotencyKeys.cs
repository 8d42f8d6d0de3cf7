using Microsoft.AspNetCore.Http;

namespace JobDedup.AspNetCore.Keys;

/// <summary>
/// Finds a request's idempotency key (the header, or the key selector) and makes the engine's key of it: the scope
/// and the key, written so that no two (scope, key) pairs give the same engine key.
/// </summary>
internal static class IdempotencyKeys
{
    public static KeyReading Read(HttpContext context, IdempotencyOptions options, KeyPolicy policy)
    {
        string? key;
        if (options.KeySelector is { } selector)
        {
            key = selector(context);
        }
        else
        {
            var values = context.Request.Headers[options.KeyHeader];
            if (values.Count > 1)
            {
                return new KeyReading(KeyReadingKind.Refused, null, $"The {options.KeyHeader} header must be sent once, with one key.");
            }

            key = values.Count == 1 ? Unquote(values[0]) : null;
        }

        if (string.IsNullOrEmpty(key))
        {
            return new KeyReading(KeyReadingKind.Missing, null, null);
        }

        if (!policy.TryValidate(key, out var reason))
        {
            return new KeyReading(KeyReadingKind.Refused, null, $"The {KeyName(options)} cannot be used: {reason}");
        }

        var scope = options.Scope?.Invoke(context) ?? string.Empty;
        var engineKey = Compose(scope, key);
        if (!policy.TryValidate(engineKey, out reason))
        {
            if (scope.Length > 0 && !policy.TryValidate(scope, out var scopeReason))
            {
                throw new InvalidOperationException($"The idempotency {nameof(IdempotencyOptions.Scope)} of this request cannot be part of a key: {scopeReason}");
            }

            return new KeyReading(KeyReadingKind.Refused, null, $"The {KeyName(options)} is too long: with its scope it must fit in {policy.MaxKeyBytes} bytes.");
        }

        return new KeyReading(KeyReadingKind.Accepted, engineKey, null);
    }

    /// <summary>
    /// Reads the header's value as the IETF draft writes it, a structured-field string (<c>"8e03978e…"</c>), or bare as
    /// most providers send it: the quotes are not part of the key.
    /// </summary>
    private static string? Unquote(string? value) =>
        value is { Length: >= 2 } && value[0] == '"' && value[^1] == '"' && value.AsSpan(1, value.Length - 2).IndexOfAny('"', '\\') < 0
            ? value[1..^1]
            : value;

    /// <summary>The engine's key: <c>k:key</c> without a scope, <c>s{length}:{scope}:{key}</c> with one.</summary>
    public static string Compose(string scope, string key) =>
        scope.Length == 0 ? $"k:{key}" : $"s{scope.Length}:{scope}:{key}";

    private static string KeyName(IdempotencyOptions options) =>
        options.KeySelector is null ? $"{options.KeyHeader} header" : "idempotency key";
}
