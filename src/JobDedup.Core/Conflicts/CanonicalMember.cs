namespace JobDedup;

/// <summary>Where one top-level member's value lies in a canonical form (see <see cref="CanonicalJson.CanonicalWriter.Write"/>).</summary>
/// <param name="Name">The member's name, unescaped.</param>
/// <param name="Start">The index of the value's first byte in the canonical form.</param>
/// <param name="Length">How many bytes the value's canonical form takes.</param>
internal readonly record struct CanonicalMember(string Name, int Start, int Length);
