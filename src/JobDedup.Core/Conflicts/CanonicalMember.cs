namespace JobDedup;

/// <summary>Where one top-level member's value lies in a canonical form's text (see <see cref="CanonicalJson.Write(System.Text.Json.JsonElement, System.Text.StringBuilder, List{CanonicalMember})"/>).</summary>
/// <param name="Name">The member's name, unescaped.</param>
/// <param name="Start">The index of the value's first char in the text.</param>
/// <param name="Length">How many chars the value's canonical form takes.</param>
internal readonly record struct CanonicalMember(string Name, int Start, int Length);
