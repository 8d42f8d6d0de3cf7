using System.Diagnostics;
using JobDedup.Partitions;
using JobDedup.RabbitMq.Consuming.Connecting;
using JobDedup.RabbitMq.Telemetry;
using Microsoft.Extensions.Logging;

namespace JobDedup.RabbitMq.Partitions;

/// <summary>
/// Decides, through a lease store, which partition queues this instance consumes, and carries the decisions out on
/// the consuming connection. Every heartbeat it renews its membership, asks <see cref="PartitionAssignment"/> what to
/// do, and does it: takes free leases up to its share and consumes them; gives extra partitions up gracefully (stops
/// consuming, waits until every delivery taken from the partition is settled, then releases the lease); stops at once
/// consuming a partition whose lease it lost.
/// </summary>
/// <remarks>
/// A partition is consumed by one instance at a time: another instance takes a lease only once it is released, or
/// once its owner stopped renewing for <see cref="IPartitionLeaseStore.FenceAfter"/>; and an owner that cannot renew
/// stops consuming by itself a heartbeat before that (the fence timer, independent of a renewal that hangs).
/// </remarks>
internal sealed class PartitionCoordinator : IAsyncDisposable
{
    private readonly string _consumer;
    private readonly string _group;
    private readonly string[] _queues;
    private readonly IPartitionLeaseStore _store;
    private readonly ConsumerConnection _connection;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ITimer _fenceTimer;
    private readonly TimeSpan _fenceAt;

    /// <summary>Guards the partitions' states and the drains.</summary>
    private readonly Lock _statesLock = new();
    private readonly PartitionState[] _states;
    private readonly List<Task> _drains = [];

    /// <summary>
    /// Held while a partition's consumer is started by the heartbeat loop or stopped by a fence, the state checked
    /// inside: the fence runs on its timer beside the loop, and a fence's stop that landed after a renewal's start (the
    /// loop took the partition again at once) would leave it unconsumed while its state said consumed.
    /// </summary>
    private readonly SemaphoreSlim _subscribing = new(1, 1);
    private long _lastRenewal;
    private bool _renewalFailing;
    private Task _loop = Task.CompletedTask;
    private PartitionStanding _standing = new(0, 0);

    // The consumed partitions last said (with the standing above); null after a fence, so that the next line is said.
    private string? _lastReported;
    private int _stopped;
    private int _disposed;

    public PartitionCoordinator(
        string consumer,
        string group,
        IReadOnlyList<string> partitionQueues,
        IPartitionLeaseStore store,
        ConsumerConnection connection,
        TimeProvider timeProvider,
        ILogger logger)
    {
        _consumer = consumer;
        _group = group;
        _queues = [.. partitionQueues];
        _store = store;
        _connection = connection;
        _timeProvider = timeProvider;
        _logger = logger;
        _states = new PartitionState[_queues.Length];
        _fenceAt = store.FenceAfter - store.HeartbeatInterval;
        _fenceTimer = timeProvider.CreateTimer(static state => ((PartitionCoordinator)state!).OnFenceTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Member = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";
    }

    /// <summary>Gets this instance's member id in the group.</summary>
    public string Member { get; }

    /// <summary>Gets each partition's state here, by partition number.</summary>
    public PartitionState[] States
    {
        get
        {
            lock (_statesLock)
            {
                return [.. _states];
            }
        }
    }

    /// <summary>Gets this instance's share and the group's size as its last renewal saw them.</summary>
    public PartitionStanding Standing => Volatile.Read(ref _standing);

    /// <summary>Starts the heartbeat loop; the first renewal runs at once.</summary>
    public void Start() => _loop = RunAsync();

    /// <summary>
    /// Stops the heartbeat loop and the drains in progress, without releasing anything: the consumer stops every
    /// partition itself, then calls <see cref="LeaveAsync"/>.
    /// </summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _fenceTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Task[] drains;
        lock (_statesLock)
        {
            drains = [.. _drains];
        }

        await Task.WhenAll([_loop, .. drains]).ConfigureAwait(false);
    }

    /// <summary>Leaves the group once every delivery is settled or back in its queue: the others take the partitions at once.</summary>
    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _store.LeaveAsync(_group, Member, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.PartitionLeaveFailed(_logger, _consumer, Member, ex);
        }

        lock (_statesLock)
        {
            Array.Fill(_states, PartitionState.Free);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await StopAsync().ConfigureAwait(false);
        await _fenceTimer.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await TickAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Never let the loop die: the next heartbeat tries again (not at once: a failing tick would spin).
                Log.UnexpectedFailure(_logger, _consumer, null, ex);
            }

            try
            {
                await Task.Delay(_store.HeartbeatInterval, _timeProvider, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        var started = _timeProvider.GetTimestamp();
        PartitionLeaseView view;
        try
        {
            using var bounded = new CancellationTokenSource(_store.HeartbeatInterval, _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, bounded.Token);
            view = await _store.RenewAsync(_group, Member, linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            if (!_renewalFailing)
            {
                _renewalFailing = true;
                Log.PartitionRenewalFailed(_logger, _consumer, Member, ex);
            }

            return;
        }

        Volatile.Write(ref _lastRenewal, started);
        var untilFence = _fenceAt - _timeProvider.GetElapsedTime(started);
        _fenceTimer.Change(untilFence > TimeSpan.Zero ? untilFence : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        if (_renewalFailing)
        {
            _renewalFailing = false;
            Log.PartitionRenewalResumed(_logger, _consumer, Member);
        }

        PartitionPlan plan;
        lock (_statesLock)
        {
            plan = PartitionAssignment.Plan(Member, view, _queues.Length, InStates(PartitionState.Consuming), InStates(PartitionState.Held), InStates(PartitionState.Draining));
        }

        foreach (var partition in plan.Lost)
        {
            if (TryMove(partition, PartitionState.Consuming, PartitionState.Free) || TryMove(partition, PartitionState.Held, PartitionState.Free))
            {
                Log.PartitionLost(_logger, _consumer, Member, _queues[partition]);
                await TryStepAsync(partition, "stop consuming", ct => _connection.UnsubscribeAsync(_queues[partition], ct), cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (var partition in plan.Release)
        {
            if (TryMove(partition, PartitionState.Consuming, PartitionState.Draining) || TryMove(partition, PartitionState.Held, PartitionState.Draining)
                || TryMove(partition, PartitionState.Free, PartitionState.Draining))
            {
                Log.PartitionGivingUp(_logger, _consumer, Member, _queues[partition]);
                lock (_statesLock)
                {
                    _drains.RemoveAll(drain => drain.IsCompleted);
                    _drains.Add(DrainAsync(partition, _stopping.Token));
                }
            }
        }

        foreach (var partition in plan.Acquire)
        {
            if (!IsWithinLease())
            {
                break;
            }

            // A store that fails here is tried again at the next heartbeat, as a failed renewal is.
            var acquired = false;
            if (await TryStepAsync(partition, "acquire", async ct => acquired = await _store.TryAcquireAsync(_group, Member, partition, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false)
                && acquired)
            {
                TryMove(partition, PartitionState.Free, PartitionState.Held);
                await ConsumeAsync(partition, cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (var partition in plan.Consume)
        {
            // Owned in the store, not consumed here: after a failed subscription, one not made as the renewal came too
            // late (Held), a fence, or a release that failed (Free).
            if (TryMove(partition, PartitionState.Free, PartitionState.Held) || State(partition) == PartitionState.Held)
            {
                await ConsumeAsync(partition, cancellationToken).ConfigureAwait(false);
            }
        }

        Report(plan);
    }

    private async Task ConsumeAsync(int partition, CancellationToken cancellationToken)
    {
        if (!IsWithinLease())
        {
            return;
        }

        await _subscribing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Fenced since the loop took it: not consumed until a later heartbeat takes it again.
            if (State(partition) != PartitionState.Held)
            {
                return;
            }

            if (await TryStepAsync(partition, "consume", ct => _connection.SubscribeAsync(_queues[partition], ct), cancellationToken).ConfigureAwait(false)
                && !TryMove(partition, PartitionState.Held, PartitionState.Consuming))
            {
                // Lost meanwhile: do not keep a consumer the state no longer accounts for.
                await TryStepAsync(partition, "stop consuming", ct => _connection.UnsubscribeAsync(_queues[partition], ct), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _subscribing.Release();
        }
    }

    private async Task DrainAsync(int partition, CancellationToken cancellationToken)
    {
        var queue = _queues[partition];
        try
        {
            // Keep the lease until the broker confirmed the cancel: a consumer left on a recovering channel would come back.
            while (!await TryStepAsync(partition, "stop consuming", ct => _connection.UnsubscribeAsync(queue, ct), cancellationToken).ConfigureAwait(false))
            {
                await Task.Delay(_store.HeartbeatInterval, _timeProvider, cancellationToken).ConfigureAwait(false);
            }

            await _connection.Tally(queue).WhenIdleAsync(cancellationToken).ConfigureAwait(false);
            if (await TryStepAsync(partition, "release", ct => _store.ReleaseAsync(_group, Member, partition, ct), cancellationToken).ConfigureAwait(false))
            {
                Log.PartitionReleased(_logger, _consumer, Member, queue);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: the consumer stops every partition and leaves the group, which releases this one too.
        }
        finally
        {
            TryMove(partition, PartitionState.Draining, PartitionState.Free);
        }
    }

    private async Task<bool> TryStepAsync(int partition, string step, Func<CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        try
        {
            await action(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            Log.PartitionStepFailed(_logger, _consumer, Member, _queues[partition], step, ex);
            return false;
        }
    }

    private bool IsWithinLease() => _timeProvider.GetElapsedTime(Volatile.Read(ref _lastRenewal)) < _fenceAt;

    private void OnFenceTimer() => _ = FenceAsync();

    /// <summary>No renewal for too long: another instance may soon take the leases, so stop consuming every partition.</summary>
    private async Task FenceAsync()
    {
        var fenced = new List<int>();
        lock (_statesLock)
        {
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            var left = _fenceAt - _timeProvider.GetElapsedTime(Volatile.Read(ref _lastRenewal));
            if (left > TimeSpan.Zero)
            {
                // Renewed meanwhile, or the timer came a little early (its clock is coarser than the one renewals are
                // timed by): wait for what is left. Without this, a timer that fired a millisecond early was never
                // armed again until the next renewal, and an instance whose renewals hung was never fenced.
                try
                {
                    _fenceTimer.Change(left, Timeout.InfiniteTimeSpan);
                }
                catch (ObjectDisposedException)
                {
                    // Disposed as the consumer stops: nothing is left to fence.
                }

                return;
            }

            for (var partition = 0; partition < _states.Length; partition++)
            {
                if (_states[partition] is PartitionState.Consuming or PartitionState.Held)
                {
                    _states[partition] = PartitionState.Free;
                    fenced.Add(partition);
                }
            }

            AssertInvariants();
        }

        if (fenced.Count == 0)
        {
            return;
        }

        // Consuming the same partitions again after the fence is a change to say.
        Volatile.Write(ref _lastReported, null);
        Log.PartitionsFenced(_logger, _consumer, Member, _timeProvider.GetElapsedTime(Volatile.Read(ref _lastRenewal)));
        foreach (var partition in fenced)
        {
            try
            {
                await _subscribing.WaitAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return; // stopping: every partition is stopped anyway
            }

            try
            {
                // Taken again by a renewal since the fence (Held or Consuming): its consumer is the loop's to keep.
                if (State(partition) == PartitionState.Free)
                {
                    await TryStepAsync(partition, "stop consuming", ct => _connection.UnsubscribeAsync(_queues[partition], ct), _stopping.Token).ConfigureAwait(false);
                }
            }
            finally
            {
                _subscribing.Release();
            }
        }
    }

    /// <summary>Says what this instance consumes whenever that, its share or the group's size changed.</summary>
    private void Report(PartitionPlan plan)
    {
        var standing = new PartitionStanding(plan.Share, plan.Members);
        var consumed = InStatesUnderLock(PartitionState.Consuming);
        var line = string.Join(", ", consumed.Order());
        if (standing == Standing && line == Volatile.Read(ref _lastReported))
        {
            return;
        }

        Volatile.Write(ref _standing, standing);
        Volatile.Write(ref _lastReported, line);
        Log.PartitionsConsumed(_logger, _consumer, Member, line, consumed.Count, _queues.Length, plan.Share, plan.Members);
    }

    private HashSet<int> InStatesUnderLock(PartitionState state)
    {
        lock (_statesLock)
        {
            return InStates(state);
        }
    }

    private HashSet<int> InStates(params PartitionState[] states)
    {
        Debug.Assert(_statesLock.IsHeldByCurrentThread, "the states are read under their lock");
        var found = new HashSet<int>();
        for (var partition = 0; partition < _states.Length; partition++)
        {
            if (states.Contains(_states[partition]))
            {
                found.Add(partition);
            }
        }

        return found;
    }

    private PartitionState State(int partition)
    {
        lock (_statesLock)
        {
            return _states[partition];
        }
    }

    private bool TryMove(int partition, PartitionState from, PartitionState to)
    {
        lock (_statesLock)
        {
            if (_states[partition] != from)
            {
                return false;
            }

            _states[partition] = to;
            AssertInvariants();
            return true;
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_statesLock.IsHeldByCurrentThread, "the states change under their lock");
        Debug.Assert(_states.Length == _queues.Length, "one state per partition queue");
    }
}
