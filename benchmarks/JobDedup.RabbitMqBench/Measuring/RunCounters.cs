using JobDedup.Bench.Reporting.Measuring;

namespace JobDedup.RabbitMqBench.Measuring;

/// <summary>
/// What one run counts while the consumer works: handler calls, acks, and the moments of the first call and of the
/// last ack, which bound the measured time. The snapshots are taken at those two moments, once each.
/// </summary>
internal sealed class RunCounters(long expectedAcks, SystemCounters system)
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _handled;
    private long _acked;
    private int _started;
    private CounterSnapshot _start;
    private CounterSnapshot _end;
    private string? _failure;

    public long ExpectedAcks => expectedAcks;

    public long Handled => Volatile.Read(ref _handled);

    public long Acked => Volatile.Read(ref _acked);

    public CounterSnapshot Start => _start;

    public CounterSnapshot End => _end;

    public string? Failure => Volatile.Read(ref _failure);

    /// <summary>Gets a task that completes when every expected ack was counted, or the run failed.</summary>
    public Task Done => _done.Task;

    /// <summary>Counts a call of the consumer's code (the raw callback, the JobDedup handler, the MassTransit consumer).</summary>
    public void OnHandled()
    {
        Interlocked.Increment(ref _handled);
        if (Volatile.Read(ref _started) == 0 && Interlocked.Exchange(ref _started, 1) == 0)
        {
            _start = system.Read();
        }
    }

    /// <summary>Counts an ack sent to the broker.</summary>
    public void OnAcked()
    {
        var acked = Interlocked.Increment(ref _acked);
        if (acked == expectedAcks)
        {
            _end = system.Read();
            _done.TrySetResult();
        }
        else if (acked > expectedAcks)
        {
            Fail($"more acks ({acked:N0}) than messages ({expectedAcks:N0}): something was delivered twice");
        }
    }

    public void Fail(string failure)
    {
        Interlocked.CompareExchange(ref _failure, failure, null);
        _done.TrySetResult();
    }
}
