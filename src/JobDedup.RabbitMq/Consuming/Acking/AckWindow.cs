using System.Diagnostics;
using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Consuming.Acking;

/// <summary>
/// The acks and nacks of one consuming channel. It lists every delivery received on the channel and not yet settled,
/// in tag order, and writes the frames that settle them, in order, from one writer at a time.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>An ack only ever covers <see cref="DeliveryState.Ready"/> deliveries: the ready run from the oldest listed
/// one up goes as one multiple ack, so a burst costs a few frames; a ready delivery behind an older one still in
/// progress is acked on its own after a short pause, batched with the others that became ready meanwhile.</item>
/// <item>A settled delivery leaves the list at once, wherever it stands, so the list holds only deliveries the broker
/// still counts against the prefetch: it never grows past the prefetch of the channel's consumers.</item>
/// <item>A connection loss closes the window (<see cref="Close"/>): everything listed goes stale and is dropped, and a
/// delivery copied meanwhile is refused (stale at birth), because listing checks the window's state under the same
/// lock that closing takes. The window lists again only once the client recovers the consumer
/// (<see cref="Reopen"/>), in a new generation.</item>
/// <item>Frames go through a <see cref="WireQueue"/>: one writer, in decision order, merging multiple acks. A caller's
/// task completes only after its frame is written, so nothing that must follow an ack (a reply) can overtake it.</item>
/// </list>
/// </remarks>
internal sealed class AckWindow
{
    /// <summary>How long a ready delivery may wait behind an older one before it is acked on its own.</summary>
    internal static readonly TimeSpan StragglerPause = TimeSpan.FromMilliseconds(5);

    private static readonly Task<bool> NotWritten = Task.FromResult(false);

    private readonly IChannel _channel;
    private readonly WireQueue _wire;
    private readonly TimeProvider _timeProvider;
    private readonly int _capacity;

    /// <summary>Guards the list, the stragglers and the window's state; frames are queued under it, so in decision order.</summary>
    private readonly Lock _listLock = new();
    private readonly List<Delivery> _stragglers = [];
    private int _readyStragglers;
    private WindowState _state = WindowState.Open;
    private int _generation;
    private Delivery? _oldest;
    private Delivery? _newest;
    private int _listed;
    private TaskCompletionSource<bool>? _stragglersWritten;
    private ITimer? _stragglerTimer;
    private bool _stragglerTimerArmed;

    /// <param name="channel">The channel the deliveries arrive on; their tags mean something only there.</param>
    /// <param name="timeProvider">The clock of the straggler pause.</param>
    /// <param name="capacity">The most deliveries the broker can have unacknowledged on the channel (prefetch × consumers).</param>
    /// <param name="generation">The connection generation the window starts in.</param>
    public AckWindow(IChannel channel, TimeProvider timeProvider, int capacity, int generation)
    {
        _channel = channel;
        _wire = new WireQueue(channel);
        _timeProvider = timeProvider;
        _capacity = capacity;
        _generation = generation;
    }

    public IChannel Channel => _channel;

    /// <summary>Gets how many deliveries are listed: received and not yet settled on the wire.</summary>
    public int Listed
    {
        get
        {
            lock (_listLock)
            {
                return _listed;
            }
        }
    }

    /// <summary>Lists a delivery as it arrives (tags arrive in order); refuses it, as stale, while the window is closed.</summary>
    /// <returns><see langword="false"/> when the delivery's connection is already gone.</returns>
    public bool TryList(Delivery delivery)
    {
        lock (_listLock)
        {
            if (_state != WindowState.Open)
            {
                delivery.TryMarkStale();
                return false;
            }

            Debug.Assert(_newest is null || _newest.DeliveryTag < delivery.DeliveryTag, "tags arrive in order");
            delivery.List(this, _generation);
            delivery.Older = _newest;
            if (_newest is null)
            {
                _oldest = delivery;
            }
            else
            {
                _newest.Newer = delivery;
            }

            _newest = delivery;
            _listed++;
            AssertInvariants();
            return true;
        }
    }

    /// <summary>Acks a claimed delivery: with the ready run from the oldest up, or on its own after a pause.</summary>
    /// <returns>A task that completes with true once the ack is written, false when the delivery went stale.</returns>
    public Task<bool> AckAsync(Delivery delivery)
    {
        Task<bool> written;
        lock (_listLock)
        {
            if (!delivery.TryMarkReady())
            {
                return NotWritten;
            }

            if (delivery == _oldest)
            {
                written = QueueOldestRun(oldestWasStraggler: false)!;
            }
            else
            {
                _stragglers.Add(delivery);
                _readyStragglers++;
                written = (_stragglersWritten ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                if (!_stragglerTimerArmed)
                {
                    _stragglerTimerArmed = true;
                    _stragglerTimer ??= _timeProvider.CreateTimer(static state => ((AckWindow)state!).OnStragglerPause(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    _stragglerTimer.Change(StragglerPause, Timeout.InfiniteTimeSpan);
                }
            }

            AssertInvariants();
        }

        _wire.Flush();
        return written;
    }

    /// <summary>Returns a claimed (or unclaimed, at shutdown) delivery to the queue; the nack is written before any later ack.</summary>
    /// <returns>A task that completes with true once the nack is written, false when the delivery went stale.</returns>
    public Task<bool> RequeueAsync(Delivery delivery)
    {
        Task<bool> written;
        lock (_listLock)
        {
            if (!delivery.TryMarkRequeued())
            {
                return NotWritten;
            }

            Unlink(delivery);
            written = _wire.Queue(WireOpKind.Requeue, delivery.DeliveryTag);

            // The nacked delivery may have been the one holding a ready run back.
            QueueOldestRun(oldestWasStraggler: true);
            AssertInvariants();
        }

        _wire.Flush();
        return written;
    }

    /// <summary>Writes every pending ack now, stragglers included (before the channel closes).</summary>
    /// <returns>A task that completes once everything queued so far is written.</returns>
    public Task FlushAsync()
    {
        Task<bool> written;
        lock (_listLock)
        {
            if (_state != WindowState.Open)
            {
                return Task.CompletedTask;
            }

            QueueStragglers();
            written = _wire.Queue(WireOpKind.Marker, 0);
        }

        _wire.Flush();
        return written;
    }

    /// <summary>Closes the window for a lost connection: the broker took back everything listed.</summary>
    public void Close() => Drop(WindowState.Closed);

    /// <summary>Closes the window for good: its channel is replaced or closed.</summary>
    public void Retire() => Drop(WindowState.Retired);

    /// <summary>Lists deliveries again, in <paramref name="generation"/>, once the client recovered the channel's consumers.</summary>
    public void Reopen(int generation)
    {
        lock (_listLock)
        {
            if (_state == WindowState.Closed)
            {
                _state = WindowState.Open;
                _generation = generation;
            }

            AssertInvariants();
        }
    }

    /// <summary>The listed deliveries no settlement has started on yet (for shutdown, which returns them to the queue).</summary>
    public List<Delivery> StillInProgress()
    {
        var unclaimed = new List<Delivery>();
        lock (_listLock)
        {
            for (var delivery = _oldest; delivery is not null; delivery = delivery.Newer)
            {
                if (delivery.State == DeliveryState.InProgress)
                {
                    unclaimed.Add(delivery);
                }
            }
        }

        return unclaimed;
    }

    private void OnStragglerPause()
    {
        lock (_listLock)
        {
            _stragglerTimerArmed = false;
            QueueStragglers();
            AssertInvariants();
        }

        _wire.Flush();
    }

    /// <summary>Queues one ack per straggler still ready (the others were covered by a multiple ack meanwhile).</summary>
    private void QueueStragglers()
    {
        foreach (var straggler in _stragglers)
        {
            if (straggler.State == DeliveryState.Ready)
            {
                straggler.MarkAcked();
                Unlink(straggler);
                _wire.QueueUnobserved(WireOpKind.AckOne, straggler.DeliveryTag);
            }
        }

        _stragglers.Clear();
        _readyStragglers = 0;
        if (_stragglersWritten is { } written)
        {
            _stragglersWritten = null;
            _wire.QueueUnobserved(WireOpKind.Marker, 0, written);
        }

        if (_stragglerTimerArmed)
        {
            _stragglerTimerArmed = false;
            _stragglerTimer!.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Queues one multiple ack for the ready run from the oldest listed delivery up, if there is one.</summary>
    /// <param name="oldestWasStraggler">Whether the oldest of the run was waiting as a straggler (every one behind it was).</param>
    private Task<bool>? QueueOldestRun(bool oldestWasStraggler)
    {
        ulong upTo = 0;
        var covered = 0;
        while (_oldest is { State: DeliveryState.Ready } ready)
        {
            ready.MarkAcked();
            upTo = ready.DeliveryTag;
            Unlink(ready);
            covered++;
        }

        if (upTo == 0)
        {
            return null;
        }

        var written = _wire.Queue(WireOpKind.AckUpTo, upTo);
        _readyStragglers -= oldestWasStraggler ? covered : covered - 1;
        if (_readyStragglers == 0 && _stragglers.Count > 0)
        {
            // Every straggler waiting for the pause is covered by this ack: they learn it now, not when the pause ends.
            QueueStragglers();
        }

        return written;
    }

    private void Drop(WindowState state)
    {
        TaskCompletionSource<bool>? stragglersDropped;
        lock (_listLock)
        {
            if (_state == WindowState.Retired)
            {
                return;
            }

            _state = state;
            for (var delivery = _oldest; delivery is not null;)
            {
                var newer = delivery.Newer;
                delivery.TryMarkStale();
                delivery.Older = delivery.Newer = null;
                delivery = newer;
            }

            _oldest = _newest = null;
            _listed = 0;
            _stragglers.Clear();
            _readyStragglers = 0;
            stragglersDropped = _stragglersWritten;
            _stragglersWritten = null;

            // Under the lock, so that a window reopened at once never loses a frame of its new generation.
            _wire.Drop();

            _stragglerTimerArmed = false;
            if (state == WindowState.Retired)
            {
                _stragglerTimer?.Dispose();
            }
            else
            {
                _stragglerTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }

            AssertInvariants();
        }

        stragglersDropped?.TrySetResult(false);
    }

    private void Unlink(Delivery delivery)
    {
        if (delivery.Older is { } older)
        {
            older.Newer = delivery.Newer;
        }
        else
        {
            _oldest = delivery.Newer;
        }

        if (delivery.Newer is { } newer)
        {
            newer.Older = delivery.Older;
        }
        else
        {
            _newest = delivery.Older;
        }

        delivery.Older = delivery.Newer = null;
        _listed--;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_listLock.IsHeldByCurrentThread, "the window's state is read under its lock");
        Debug.Assert(_listed >= 0 && _listed <= _capacity, $"{_listed} listed with a capacity of {_capacity}");
        Debug.Assert(_state == WindowState.Open || _listed == 0, "a closed window lists nothing");
        Debug.Assert(_readyStragglers >= 0 && _readyStragglers <= _stragglers.Count, "ready stragglers are among the stragglers");
        Debug.Assert(_oldest is not { State: DeliveryState.Ready }, "a ready run at the oldest end is queued at once");
        var count = 0;
        ulong previous = 0;
        for (var delivery = _oldest; delivery is not null; delivery = delivery.Newer)
        {
            Debug.Assert(delivery.DeliveryTag > previous, "listed in tag order");
            Debug.Assert(delivery.State is DeliveryState.InProgress or DeliveryState.Settling or DeliveryState.Ready, $"a {delivery.State} delivery is not listed");
            Debug.Assert(delivery.Generation == _generation, "every listed delivery belongs to the window's generation");
            previous = delivery.DeliveryTag;
            count++;
        }

        Debug.Assert(count == _listed, "the count matches the list");
    }
}
