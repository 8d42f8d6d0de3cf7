using JobDedup.RabbitMq.Consuming.Acking;
using JobDedup.RabbitMq.Telemetry;
using Microsoft.Extensions.Logging;

namespace JobDedup.RabbitMq.Consuming.Settling;

/// <summary>
/// Carries out a <see cref="Settlement"/> for one delivery, exactly once: the first caller claims the delivery, and
/// only that caller acks, requeues or republishes it. A settlement that fails unexpectedly sends the delivery back to
/// the queue rather than lose it. It also counts the deliveries not yet settled, so that shutdown can wait for them.
/// </summary>
internal sealed class Settler(string consumer, string deadLetterQueue, Republisher republisher, ReplySender replies, SettlementMeter meter, ILogger logger)
{
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _unsettled;
    private int _draining;

    /// <summary>Gets how many deliveries were handed over and are not settled yet.</summary>
    public int Unsettled => Volatile.Read(ref _unsettled);

    /// <summary>Counts a delivery that will be settled through <see cref="SettleAsync"/>.</summary>
    public void Track(Delivery delivery)
    {
        delivery.MarkCounted();
        delivery.Tally?.Add();
        Interlocked.Increment(ref _unsettled);
    }

    /// <summary>Completes once every tracked delivery is settled, from now on (shutdown).</summary>
    public Task DrainAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _draining, 1);
        if (Unsettled == 0)
        {
            _drained.TrySetResult();
        }

        return _drained.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Counts a delivery refused at arrival because its connection was already gone.</summary>
    public void CountStale() => meter.Add(SettledAs.Stale);

    /// <summary>
    /// Settles a tracked delivery (reply included) unless someone else claimed it first or it went stale; either way
    /// it stops counting as unsettled once the first caller is done with it.
    /// </summary>
    /// <param name="delivery">The delivery.</param>
    /// <param name="settlement">What to do.</param>
    /// <param name="role">For an ack with a reply: the delivery's part in its flight.</param>
    /// <param name="reply">For an ack: the reply body, when the message asks for one.</param>
    public async Task SettleAsync(Delivery delivery, Settlement settlement, JobRole role = JobRole.None, byte[]? reply = null)
    {
        if (!delivery.TryStartSettling())
        {
            // Claimed by another settlement (shutdown's), or taken back by the broker with its connection.
            Uncount(delivery);
            return;
        }

        var span = delivery.TakeSpan();

        try
        {
            await CarryOutAsync(delivery, settlement, role, reply).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            try
            {
                Log.UnexpectedFailure(logger, consumer, delivery.Key, ex);
            }
            catch (Exception)
            {
                // The logger failed too; the delivery still must not be lost.
            }

            await RequeueAsync(delivery).ConfigureAwait(false);
        }
        finally
        {
            Uncount(delivery);
            if (span is not null)
            {
                MessagingSpans.EndProcess(span, SpanSettlement(settlement.Kind), settlement.Kind is SettlementKind.DeadLetter or SettlementKind.Retry);
            }
        }
    }

    private static string SpanSettlement(SettlementKind kind) => kind switch
    {
        SettlementKind.Ack => "ack",
        SettlementKind.Retry => "retry",
        SettlementKind.Park => "park",
        SettlementKind.DeadLetter => "dead-letter",
        _ => "requeue",
    };

    private void Uncount(Delivery delivery)
    {
        if (!delivery.TryUncount())
        {
            return;
        }

        delivery.Tally?.Remove();
        if (Interlocked.Decrement(ref _unsettled) == 0 && Volatile.Read(ref _draining) == 1)
        {
            _drained.TrySetResult();
        }
    }

    private async Task CarryOutAsync(Delivery delivery, Settlement settlement, JobRole role, byte[]? reply)
    {
        switch (settlement.Kind)
        {
            case SettlementKind.Ack:
                if (await AckAsync(delivery, SettledAs.Ack).ConfigureAwait(false) && reply is not null)
                {
                    await replies.SendAsync(delivery, role, reply).ConfigureAwait(false);
                }

                break;

            case SettlementKind.Retry:
                await AfterCopyAsync(delivery, await republisher.RetryAsync(delivery, settlement.RetryLevel, settlement.NextAttempt).ConfigureAwait(false), SettledAs.Retry).ConfigureAwait(false);
                break;

            case SettlementKind.Park:
                await AfterCopyAsync(delivery, await republisher.ParkAsync(delivery).ConfigureAwait(false), SettledAs.Park).ConfigureAwait(false);
                break;

            case SettlementKind.DeadLetter:
                var copied = await republisher.DeadLetterAsync(delivery, settlement).ConfigureAwait(false);
                if (await AfterCopyAsync(delivery, copied, SettledAs.DeadLetter, settlement.Reason).ConfigureAwait(false))
                {
                    Log.DeadLettered(logger, consumer, delivery.Message.MessageId, delivery.Key, deadLetterQueue, settlement.Reason, settlement.Detail);
                    if (delivery.Message.ReplyTo is { Length: > 0 })
                    {
                        await replies.SendErrorAsync(delivery, settlement).ConfigureAwait(false);
                    }
                }

                break;

            default:
                await RequeueAsync(delivery).ConfigureAwait(false);
                break;
        }
    }

    /// <returns><see langword="true"/> when the copy was published and the original acked.</returns>
    private async Task<bool> AfterCopyAsync(Delivery delivery, RepublishResult copied, SettledAs how, string? reason = null)
    {
        switch (copied)
        {
            case RepublishResult.Published:
                return await AckAsync(delivery, how, reason).ConfigureAwait(false);
            case RepublishResult.Stale:
                meter.Add(SettledAs.Stale);
                return false;
            default:
                await RequeueAsync(delivery).ConfigureAwait(false);
                return false;
        }
    }

    /// <returns><see langword="true"/> when the ack was written on the delivery's own channel.</returns>
    /// <param name="delivery">The delivery.</param>
    /// <param name="how">What the ack counts as.</param>
    /// <param name="reason">For a dead letter: its reason, counted with it.</param>
    private async Task<bool> AckAsync(Delivery delivery, SettledAs how, string? reason = null)
    {
        try
        {
            if (!await delivery.Window!.AckAsync(delivery).ConfigureAwait(false))
            {
                // The broker took it back with its connection: nothing to ack, it comes back by itself.
                meter.Add(SettledAs.Stale);
                return false;
            }

            if (reason is null)
            {
                meter.Add(how);
            }
            else
            {
                meter.DeadLettered(reason);
            }

            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.SettleFailed(logger, consumer, delivery.Key, ex);
            return false;
        }
    }

    private async Task RequeueAsync(Delivery delivery)
    {
        try
        {
            meter.Add(await delivery.Window!.RequeueAsync(delivery).ConfigureAwait(false) ? SettledAs.Requeue : SettledAs.Stale);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Unacknowledged on a lost channel: the broker requeues it by itself.
            Log.SettleFailed(logger, consumer, delivery.Key, ex);
        }
    }
}
