namespace JobDedup.Redis.Caching;

/// <summary>
/// Callers of this process waiting for another process's rebuild, by key: woken when the value's announcement
/// arrives on the cache's channel. Register before reading Redis again, so an announcement in between is not missed.
/// </summary>
internal sealed class ValueWaiters
{
    private readonly Lock _waitingLock = new();
    private readonly Dictionary<string, Waiting> _waiting = new(StringComparer.Ordinal);

    /// <summary>Gets how many keys have waiters now (for tests).</summary>
    public int Count
    {
        get
        {
            lock (_waitingLock)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>Starts waiting for <paramref name="key"/>; dispose the registration when done.</summary>
    public Registration Register(string key)
    {
        lock (_waitingLock)
        {
            if (!_waiting.TryGetValue(key, out var waiting))
            {
                waiting = new Waiting();
                _waiting.Add(key, waiting);
            }

            waiting.Count++;
            return new Registration(this, key, waiting);
        }
    }

    /// <summary>Wakes every waiter of <paramref name="key"/>.</summary>
    public void Wake(string key)
    {
        Waiting? woken;
        lock (_waitingLock)
        {
            if (!_waiting.Remove(key, out woken))
            {
                return;
            }
        }

        // Completed outside the lock; continuations run asynchronously.
        woken.Arrived.TrySetResult();
    }

    /// <summary>Wakes every waiter (the connection came back: announcements may have been missed).</summary>
    public void WakeAll()
    {
        Waiting[] woken;
        lock (_waitingLock)
        {
            woken = [.. _waiting.Values];
            _waiting.Clear();
        }

        foreach (var waiting in woken)
        {
            waiting.Arrived.TrySetResult();
        }
    }

    private void Leave(string key, Waiting waiting)
    {
        lock (_waitingLock)
        {
            if (--waiting.Count == 0 && _waiting.TryGetValue(key, out var current) && ReferenceEquals(current, waiting))
            {
                _waiting.Remove(key);
            }
        }
    }

    /// <summary>One caller's wait for a key.</summary>
    public readonly struct Registration : IDisposable
    {
        private readonly ValueWaiters _owner;
        private readonly string _key;
        private readonly Waiting _waiting;

        internal Registration(ValueWaiters owner, string key, Waiting waiting)
        {
            _owner = owner;
            _key = key;
            _waiting = waiting;
        }

        /// <summary>Gets a task that completes when a value for the key is announced.</summary>
        public Task Arrived => _waiting.Arrived.Task;

        public void Dispose() => _owner?.Leave(_key, _waiting);
    }

    internal sealed class Waiting
    {
        public TaskCompletionSource Arrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Count { get; set; }
    }
}
