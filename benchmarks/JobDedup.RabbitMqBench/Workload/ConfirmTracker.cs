using RabbitMQ.Client;

namespace JobDedup.RabbitMqBench.Workload;

/// <summary>
/// Follows the broker's publisher confirms on one channel by sequence number, without the client's own tracking
/// (which would add a sequence-number header to every message and so change what the consumers read).
/// </summary>
internal sealed class ConfirmTracker
{
    private readonly Lock _sync = new();
    private readonly SortedSet<ulong> _above = [];
    private ulong _confirmedThrough;
    private ulong _waitingFor;
    private TaskCompletionSource? _waiter;
    private string? _failure;

    public ConfirmTracker(IChannel channel)
    {
        channel.BasicAcksAsync += (_, args) => OnConfirmAsync(args.DeliveryTag, args.Multiple, nacked: false);
        channel.BasicNacksAsync += (_, args) => OnConfirmAsync(args.DeliveryTag, args.Multiple, nacked: true);
        channel.BasicReturnAsync += (_, args) => Fail($"the broker returned a message ({args.ReplyCode} {args.ReplyText})");
    }

    /// <summary>Waits until every publish up to <paramref name="sequenceNumber"/> is confirmed.</summary>
    public async Task WaitForAsync(ulong sequenceNumber, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task wait;
        lock (_sync)
        {
            ThrowIfFailed();
            if (_confirmedThrough >= sequenceNumber)
            {
                return;
            }

            _waitingFor = sequenceNumber;
            _waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            wait = _waiter.Task;
        }

        try
        {
            await wait.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The broker did not confirm publish {sequenceNumber} within {timeout.TotalSeconds:0} s (confirmed through {Volatile.Read(ref _confirmedThrough)}).");
        }

        lock (_sync)
        {
            ThrowIfFailed();
        }
    }

    private Task OnConfirmAsync(ulong tag, bool multiple, bool nacked)
    {
        if (nacked)
        {
            return Fail($"the broker nacked publish {tag}");
        }

        TaskCompletionSource? release = null;
        lock (_sync)
        {
            if (multiple)
            {
                _confirmedThrough = Math.Max(_confirmedThrough, tag);
                _above.RemoveWhere(t => t <= tag);
            }
            else
            {
                _above.Add(tag);
            }

            while (_above.Count > 0 && _above.Min == _confirmedThrough + 1)
            {
                _confirmedThrough = _above.Min;
                _above.Remove(_above.Min);
            }

            if (_waiter is not null && _confirmedThrough >= _waitingFor)
            {
                release = _waiter;
                _waiter = null;
            }
        }

        release?.TrySetResult();
        return Task.CompletedTask;
    }

    private Task Fail(string failure)
    {
        TaskCompletionSource? release;
        lock (_sync)
        {
            _failure ??= failure;
            release = _waiter;
            _waiter = null;
        }

        release?.TrySetResult();
        return Task.CompletedTask;
    }

    private void ThrowIfFailed()
    {
        if (_failure is not null)
        {
            throw new InvalidOperationException($"Publishing failed: {_failure}.");
        }
    }
}
