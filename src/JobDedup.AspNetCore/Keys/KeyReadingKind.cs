namespace JobDedup.AspNetCore.Keys;

/// <summary>The kinds of <see cref="KeyReading"/>.</summary>
internal enum KeyReadingKind
{
    /// <summary>The request carries no key.</summary>
    Missing,

    /// <summary>The request carries a key that cannot be used (several values, a control character, too long).</summary>
    Refused,

    /// <summary>The key is usable.</summary>
    Accepted,
}
