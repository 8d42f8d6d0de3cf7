using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Consuming;

/// <summary>
/// The acks and nacks of one consuming channel, written in order and coalesced: deliveries that are ready to ack
/// from the oldest outstanding one up are acked with one <c>multiple</c> ack, so a burst costs the broker a few frames
/// instead of one per delivery.
/// </summary>
/// <remarks>
/// Every delivery received on the channel is listed, in tag order, even one the consumer leaves unsettled (while
/// stopping): a multiple ack only ever covers tags that are all ready or already settled, never one still in
/// progress. A ready delivery stuck behind a slower, older one is acked on its own after a short pause. All writes go
/// through one lock, so a nack always reaches the broker before an ack that follows it.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage(
    "Design",
    "CA1001:Types that own disposable fields should be disposable",
    Justification = "The semaphore never allocates a wait handle, so disposing frees nothing; a late flush may still use it after the channel closed.")]
internal sealed class AckWindow(IChannel channel, TimeProvider timeProvider)
{
    private const int Pending = 0;
    private const int Ready = 1;
    private const int Settled = 2;

    /// <summary>How long a ready delivery may wait behind an older one before it is acked on its own.</summary>
    private static readonly TimeSpan StragglerPause = TimeSpan.FromMilliseconds(5);

    private readonly Queue<Delivery> _outstanding = new();
    private readonly Lock _sync = new();
    private readonly SemaphoreSlim _wire = new(1, 1);
    private int _readyBehind;
    private bool _stragglerCheckScheduled;

    public IChannel Channel => channel;

    /// <summary>Lists a delivery as it arrives (tags arrive in order).</summary>
    public void Received(Delivery delivery)
    {
        lock (_sync)
        {
            _outstanding.Enqueue(delivery);
        }
    }

    /// <summary>Acks a delivery: with the other ready ones from the oldest outstanding up, or on its own after a pause.</summary>
    public Task AckAsync(Delivery delivery)
    {
        lock (_sync)
        {
            if (delivery.AckState != Pending)
            {
                // Cleared with its connection (the broker took it back): nothing to ack, and nothing to wait for.
                return Task.CompletedTask;
            }

            delivery.AckState = Ready;
            _readyBehind++;
        }

        return FlushAsync();
    }

    /// <summary>Returns a delivery to the queue (written before any later ack).</summary>
    public async Task NackAsync(Delivery delivery)
    {
        await _wire.WaitAsync().ConfigureAwait(false);
        try
        {
            await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true).ConfigureAwait(false);
        }
        finally
        {
            lock (_sync)
            {
                delivery.AckState = Settled;
            }

            _wire.Release();
        }

        await FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Forgets every listed delivery: the broker took them back with the connection that carried them.</summary>
    public void Clear()
    {
        lock (_sync)
        {
            foreach (var delivery in _outstanding)
            {
                delivery.AckState = Settled;
            }

            _outstanding.Clear();
            _readyBehind = 0;
        }
    }

    /// <summary>Writes every pending ack now, stragglers included (before the channel closes).</summary>
    public async Task FlushAllAsync()
    {
        await FlushAsync().ConfigureAwait(false);
        await AckStragglersAsync().ConfigureAwait(false);
    }

    private async Task FlushAsync()
    {
        await _wire.WaitAsync().ConfigureAwait(false);
        try
        {
            ulong? upTo = null;
            lock (_sync)
            {
                while (_outstanding.TryPeek(out var oldest) && oldest.AckState != Pending)
                {
                    _outstanding.Dequeue();
                    if (oldest.AckState == Ready)
                    {
                        upTo = oldest.DeliveryTag;
                        oldest.AckState = Settled;
                        _readyBehind--;
                    }
                }
            }

            if (upTo is { } tag)
            {
                await channel.BasicAckAsync(tag, multiple: true).ConfigureAwait(false);
            }
        }
        finally
        {
            _wire.Release();
        }

        ScheduleStragglerCheck();
    }

    private void ScheduleStragglerCheck()
    {
        lock (_sync)
        {
            if (_readyBehind == 0 || _stragglerCheckScheduled)
            {
                return;
            }

            _stragglerCheckScheduled = true;
        }

        _ = CheckStragglersLaterAsync();
    }

    private async Task CheckStragglersLaterAsync()
    {
        try
        {
            await Task.Delay(StragglerPause, timeProvider).ConfigureAwait(false);
            await AckStragglersAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The channel is gone: the broker takes the unacked deliveries back by itself.
        }
        finally
        {
            lock (_sync)
            {
                _stragglerCheckScheduled = false;
            }
        }

        ScheduleStragglerCheck();
    }

    private async Task AckStragglersAsync()
    {
        await _wire.WaitAsync().ConfigureAwait(false);
        try
        {
            List<ulong>? tags = null;
            lock (_sync)
            {
                foreach (var delivery in _outstanding)
                {
                    if (delivery.AckState == Ready)
                    {
                        (tags ??= []).Add(delivery.DeliveryTag);
                        delivery.AckState = Settled;
                        _readyBehind--;
                    }
                }
            }

            foreach (var tag in tags ?? [])
            {
                await channel.BasicAckAsync(tag, multiple: false).ConfigureAwait(false);
            }
        }
        finally
        {
            _wire.Release();
        }

        await FlushAsync().ConfigureAwait(false);
    }
}
