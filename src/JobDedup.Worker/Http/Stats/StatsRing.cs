namespace JobDedup.Worker.Http.Stats;

/// <summary>The last <see cref="Capacity"/> samples of one pipeline, oldest first; the oldest is dropped when it is full.</summary>
/// <typeparam name="T">The sample type.</typeparam>
internal sealed class StatsRing<T>
{
    /// <summary>Guards <see cref="_items"/>, <see cref="_next"/> and <see cref="_count"/>.</summary>
    private readonly Lock _ringLock = new();
    private readonly T[] _items;
    private int _next;
    private int _count;

    public StatsRing(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _items = new T[capacity];
    }

    public int Capacity => _items.Length;

    public void Add(T item)
    {
        lock (_ringLock)
        {
            _items[_next] = item;
            _next = (_next + 1) % _items.Length;
            _count = Math.Min(_count + 1, _items.Length);
        }
    }

    /// <summary>Returns the samples held, oldest first.</summary>
    public T[] ToArray()
    {
        lock (_ringLock)
        {
            var copy = new T[_count];
            var start = (_next - _count + _items.Length) % _items.Length;
            for (var i = 0; i < _count; i++)
            {
                copy[i] = _items[(start + i) % _items.Length];
            }

            return copy;
        }
    }
}
