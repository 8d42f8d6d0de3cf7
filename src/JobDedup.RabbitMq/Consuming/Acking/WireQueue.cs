using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Consuming.Acking;

/// <summary>
/// The frames an ack window decided on, written to the channel in the order they were queued, by one writer at a
/// time. The writer is queued to the thread pool once per batch, so multiple acks queued while a frame is written are
/// merged into one.
/// </summary>
/// <remarks>
/// The window queues frames while it holds its own lock, so the order of its decisions is the order on the wire.
/// A frame belongs to the connection it was decided on: <see cref="Drop"/> starts a new epoch, and the writer hands a
/// frame to the channel only while its batch's epoch is current, under the same lock, so a frame of a lost
/// connection can never reach the recovered channel, where its tag would name another delivery.
/// </remarks>
internal sealed class WireQueue(IChannel channel) : IThreadPoolWorkItem
{
    /// <summary>Guards the queued frames and whether a writer is queued.</summary>
    private readonly Lock _framesLock = new();
    private List<WireOp> _queued = [];
    private List<WireOp>? _spare = [];
    private bool _writerQueued;
    private int _epoch;

    /// <summary>Queues a frame; a multiple ack right behind another not yet written replaces it (it covers more).</summary>
    /// <returns>A task that completes with true once the frame is written, false when it is dropped.</returns>
    public Task<bool> Queue(WireOpKind kind, ulong tag)
    {
        TaskCompletionSource<bool> written;
        lock (_framesLock)
        {
            if (kind == WireOpKind.AckUpTo && _queued.Count > 0 && _queued[^1] is { Kind: WireOpKind.AckUpTo, Written: { } merged } last)
            {
                _queued[^1] = last with { DeliveryTag = tag };
                return merged.Task;
            }

            written = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _queued.Add(new WireOp(kind, tag, written));
        }

        return written.Task;
    }

    /// <summary>Queues a frame nobody waits for by itself.</summary>
    public void QueueUnobserved(WireOpKind kind, ulong tag, TaskCompletionSource<bool>? written = null)
    {
        lock (_framesLock)
        {
            _queued.Add(new WireOp(kind, tag, written));
        }
    }

    /// <summary>Starts the writer unless one is queued already or nothing waits to be written.</summary>
    public void Flush()
    {
        lock (_framesLock)
        {
            if (_writerQueued || _queued.Count == 0)
            {
                return;
            }

            _writerQueued = true;
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>Drops every frame not yet taken by the writer (their connection is gone); each waiter learns false.</summary>
    public void Drop()
    {
        List<TaskCompletionSource<bool>>? dropped = null;
        lock (_framesLock)
        {
            foreach (var op in _queued)
            {
                if (op.Written is { } written)
                {
                    (dropped ??= []).Add(written);
                }
            }

            _queued.Clear();
            _epoch++;
        }

        foreach (var written in dropped ?? [])
        {
            written.TrySetResult(false);
        }
    }

    void IThreadPoolWorkItem.Execute() => _ = WriteQueuedAsync();

    private async Task WriteQueuedAsync()
    {
        List<WireOp>? written = null;
        while (true)
        {
            List<WireOp> batch;
            int epoch;
            lock (_framesLock)
            {
                if (written is not null)
                {
                    written.Clear();
                    _spare = written;
                }

                if (_queued.Count == 0)
                {
                    _writerQueued = false;
                    return;
                }

                batch = _queued;
                _queued = _spare!;
                _spare = null;
                epoch = _epoch;
            }

            foreach (var op in batch)
            {
                try
                {
                    if (!TryStartWrite(op, epoch, out var write))
                    {
                        // Its connection was lost after the batch was taken: the broker took the delivery back.
                        op.Written?.TrySetResult(false);
                        continue;
                    }

                    await write.ConfigureAwait(false);
                    op.Written?.TrySetResult(true);
                }
                catch (Exception ex)
                {
                    // The channel is gone: the broker takes the unacknowledged deliveries back by itself.
                    op.Written?.TrySetException(ex);
                }
            }

            written = batch;
        }
    }

    /// <summary>
    /// Hands the frame to the channel if its connection is still the current one. The client binds a frame to its
    /// connection in the call's synchronous part, which therefore runs under the lock that <see cref="Drop"/> takes.
    /// </summary>
    private bool TryStartWrite(WireOp op, int epoch, out ValueTask write)
    {
        lock (_framesLock)
        {
            if (_epoch != epoch)
            {
                write = default;
                return false;
            }

            write = WriteAsync(op);
            return true;
        }
    }

    private ValueTask WriteAsync(WireOp op) => op.Kind switch
    {
        WireOpKind.AckUpTo => channel.BasicAckAsync(op.DeliveryTag, multiple: true),
        WireOpKind.AckOne => channel.BasicAckAsync(op.DeliveryTag, multiple: false),
        WireOpKind.Requeue => channel.BasicNackAsync(op.DeliveryTag, multiple: false, requeue: true),
        _ => ValueTask.CompletedTask,
    };
}
