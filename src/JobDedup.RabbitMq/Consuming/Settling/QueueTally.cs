namespace JobDedup.RabbitMq.Consuming.Settling;

/// <summary>
/// Counts one queue's deliveries taken in and not settled yet, so that a partition is given up only once every
/// delivery taken from it is settled.
/// </summary>
internal sealed class QueueTally(string queue)
{
    /// <summary>Guards the count and the waiter.</summary>
    private readonly Lock _countLock = new();
    private int _unsettled;
    private TaskCompletionSource? _idle;

    public string Queue { get; } = queue;

    /// <summary>Gets how many deliveries of the queue are not settled yet.</summary>
    public int Unsettled
    {
        get
        {
            lock (_countLock)
            {
                return _unsettled;
            }
        }
    }

    public void Add()
    {
        lock (_countLock)
        {
            _unsettled++;
        }
    }

    public void Remove()
    {
        TaskCompletionSource? idle = null;
        lock (_countLock)
        {
            if (--_unsettled == 0)
            {
                idle = _idle;
                _idle = null;
            }
        }

        idle?.TrySetResult();
    }

    /// <summary>Completes once no delivery of the queue is left unsettled.</summary>
    public Task WhenIdleAsync(CancellationToken cancellationToken)
    {
        lock (_countLock)
        {
            if (_unsettled == 0)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task.WaitAsync(cancellationToken);
        }
    }
}
