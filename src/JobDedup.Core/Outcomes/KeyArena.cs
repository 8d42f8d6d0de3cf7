namespace JobDedup.Outcomes;

/// <summary>
/// The arrays a packed in-memory window keeps its keys in. A key kept as a string lives as long as its entry and dies
/// old: in a window of thousands under a stream of new keys, every key is copied into the older generations and then
/// collected there, and those collections stop the application. Held in an array on the pinned object heap (collected
/// with the oldest generation only), a key is never copied; and the array of a key the window drops is reused for the
/// next key of its size, so a full window allocates nothing for the keys it keeps.
/// </summary>
/// <remarks>Not thread-safe: the store calls it under its lock.</remarks>
internal sealed class KeyArena
{
    /// <summary>The longest key held in the arena; a longer one is kept as its string.</summary>
    public const int MaxLength = 512;

    /// <summary>Arrays are sized in steps of this many characters, so that a key's array fits the next key of its size.</summary>
    private const int SizeStep = 16;

    /// <summary>The most arrays of one size kept for reuse: a full window gives one back for each one it takes.</summary>
    private const int MaxPooledPerSize = 16;

    private readonly Stack<char[]>?[] _pool = new Stack<char[]>?[MaxLength / SizeStep];

    /// <summary>Gets how many arrays the arena has allocated (the others it handed out were reused).</summary>
    public int Allocated { get; private set; }

    /// <summary>Copies a key into an array of the arena's; <see langword="null"/> when the key is too long for one.</summary>
    public char[]? TryRent(ReadOnlySpan<char> key)
    {
        if (key.Length is 0 or > MaxLength)
        {
            return null;
        }

        var size = SizeClass(key.Length);
        if (_pool[size] is not { Count: > 0 } pooled || !pooled.TryPop(out var chars))
        {
            chars = GC.AllocateUninitializedArray<char>((size + 1) * SizeStep, pinned: true);
            Allocated++;
        }

        key.CopyTo(chars);
        return chars;
    }

    /// <summary>Takes back the array of a key the store no longer holds; nothing may read it as that key again.</summary>
    public void Return(char[] chars)
    {
        var size = SizeClass(chars.Length);
        var pooled = _pool[size] ??= new Stack<char[]>(MaxPooledPerSize);
        if (pooled.Count < MaxPooledPerSize)
        {
            pooled.Push(chars);
        }
    }

    private static int SizeClass(int length) => (length - 1) / SizeStep;
}
