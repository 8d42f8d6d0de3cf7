namespace JobDedup.Outcomes;

/// <summary>
/// A key the in-memory window keeps: its characters in an array from a <see cref="PinnedArrayPool{T}"/> (reused once
/// the key is dropped), or the caller's string itself; with its hash code, computed once.
/// </summary>
/// <remarks>
/// A pooled array is reused for another key once its entry is dropped, and an expiry item left behind still
/// holds it: a key read through such an item may be another key's now. The store never trusts it further than a
/// lookup, whose entry must have the item's version.
/// </remarks>
internal readonly struct StoreKey
{
    private readonly char[]? _chars;
    private readonly string? _text;
    private readonly int _length;
    private readonly int _hashCode;

    private StoreKey(char[]? chars, string? text, int length, int hashCode)
    {
        _chars = chars;
        _text = text;
        _length = length;
        _hashCode = hashCode;
    }

    /// <summary>Gets the key's characters.</summary>
    public ReadOnlySpan<char> Span => _text is null ? _chars.AsSpan(0, _length) : _text.AsSpan();

    /// <summary>Gets the pooled array that holds the key, when one does.</summary>
    public char[]? PooledChars => _chars;

    /// <summary>A key held in a pooled array, its first <paramref name="length"/> characters.</summary>
    public static StoreKey Pooled(char[] chars, int length) => new(chars, null, length, Hash(chars.AsSpan(0, length)));

    /// <summary>A key held as the caller's string.</summary>
    public static StoreKey OfText(string text) => new(null, text, text.Length, Hash(text));

    private static int Hash(ReadOnlySpan<char> key) => string.GetHashCode(key, StringComparison.Ordinal);

    /// <summary>
    /// Compares keys by their characters (ordinal), and a caller's string with a kept key without making a key of it.
    /// A key is equal to itself without its characters being read: evicting the oldest entry then touches its key's
    /// hash code (kept with it) and its array's reference only.
    /// </summary>
    internal sealed class Comparer : IEqualityComparer<StoreKey>, IAlternateEqualityComparer<ReadOnlySpan<char>, StoreKey>
    {
        /// <summary>Gets the comparer; it holds nothing, so one serves every store.</summary>
        public static Comparer Instance { get; } = new();

        public bool Equals(StoreKey x, StoreKey y) =>
            (x._length == y._length && x._chars is not null && ReferenceEquals(x._chars, y._chars)) || x.Span.SequenceEqual(y.Span);

        public int GetHashCode(StoreKey obj) => obj._hashCode;

        public bool Equals(ReadOnlySpan<char> alternate, StoreKey other) => alternate.SequenceEqual(other.Span);

        public int GetHashCode(ReadOnlySpan<char> alternate) => Hash(alternate);

        /// <summary>Makes a key of characters, as its string; the store adds its keys itself, pooled arrays and all.</summary>
        public StoreKey Create(ReadOnlySpan<char> alternate) => OfText(alternate.ToString());
    }
}
