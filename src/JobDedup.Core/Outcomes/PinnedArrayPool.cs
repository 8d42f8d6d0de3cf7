namespace JobDedup.Outcomes;

/// <summary>
/// Arrays on the pinned object heap, in size classes, taken back and handed out again: for what an in-memory window
/// keeps (packed outcomes, keys). Such an array lives as long as its entry, thousands of requests under load;
/// allocated as usual it would be copied into each older generation in turn and collected there, which stops the
/// application. The pinned object heap is collected with the oldest generation only, so it is never copied; and the
/// array of an entry the window drops is reused for the next one of its size class, so a full window allocates nothing.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
/// <remarks>
/// Not thread-safe (<see cref="Allocate"/> aside): its owner calls it under a lock of its own. Arrays of a size class no longer asked for (the window
/// now keeps entries of another size) give way to the one given back when the pool is full.
/// </remarks>
/// <param name="sizeStep">Arrays are sized in steps of this many elements, so that an array fits the next entry of its size.</param>
/// <param name="maxPerSize">The most arrays of one size kept: a full window gives one back for each one it takes.</param>
/// <param name="maxPooledLength">The most elements kept in all.</param>
internal sealed class PinnedArrayPool<T>(int sizeStep, int maxPerSize, long maxPooledLength)
{
    private readonly Dictionary<int, Stack<T[]>> _pool = [];
    private long _pooledLength;

    private int _allocated;

    /// <summary>Gets how many arrays the pool has allocated (the others it handed out were reused).</summary>
    public int Allocated => Volatile.Read(ref _allocated);

    /// <summary>An array of at least <paramref name="length"/> elements, rounded up to its size class: one given back, or a new one.</summary>
    public T[] Rent(int length) => TryRentPooled(length, out var reused) ? reused : Allocate(length);

    /// <summary>Hands out an array given back, of the size class of <paramref name="length"/>, when the pool holds one.</summary>
    public bool TryRentPooled(int length, out T[] array)
    {
        var size = SizeOf(length);
        if (_pool.TryGetValue(size, out var arrays) && arrays.TryPop(out var reused))
        {
            _pooledLength -= size;
            array = reused;
            return true;
        }

        array = [];
        return false;
    }

    /// <summary>
    /// A new array of the size class of <paramref name="length"/>; unlike the others, safe to call without the owner's
    /// lock, so that an owner need not allocate while holding it.
    /// </summary>
    public T[] Allocate(int length)
    {
        Interlocked.Increment(ref _allocated);
        return GC.AllocateUninitializedArray<T>(SizeOf(length), pinned: true);
    }

    /// <summary>Takes back an array <see cref="Rent"/> handed out, which its holder never reads again.</summary>
    public void Return(T[] array)
    {
        if (array.Length % sizeStep != 0 || array.Length > maxPooledLength)
        {
            return;
        }

        if (!_pool.TryGetValue(array.Length, out var arrays))
        {
            arrays = new Stack<T[]>();
            _pool.Add(array.Length, arrays);
        }

        if (arrays.Count >= maxPerSize)
        {
            return;
        }

        while (_pooledLength + array.Length > maxPooledLength && TryDropOtherSize(array.Length))
        {
        }

        if (_pooledLength + array.Length <= maxPooledLength)
        {
            arrays.Push(array);
            _pooledLength += array.Length;
        }
    }

    private int SizeOf(int length) => (length + sizeStep - 1) / sizeStep * sizeStep;

    /// <summary>Lets go of one array of a size other than <paramref name="keep"/>.</summary>
    private bool TryDropOtherSize(int keep)
    {
        foreach (var (size, arrays) in _pool)
        {
            if (size != keep && arrays.TryPop(out _))
            {
                _pooledLength -= size;
                return true;
            }
        }

        return false;
    }
}
