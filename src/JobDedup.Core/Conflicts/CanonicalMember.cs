namespace JobDedup;

/// <summary>One top-level member of a canonical form (see <see cref="CanonicalJson.CanonicalWriter.Write"/>): where its name and its value lie.</summary>
/// <param name="NameStart">Where the member's name, unescaped, begins among the writer's names (see <see cref="CanonicalJson.CanonicalWriter.NameOf(CanonicalMember)"/>).</param>
/// <param name="NameLength">How many chars the name takes.</param>
/// <param name="Start">The index of the value's first byte in the canonical form.</param>
/// <param name="Length">How many bytes the value's canonical form takes.</param>
internal readonly record struct CanonicalMember(int NameStart, int NameLength, int Start, int Length);
