using System.Diagnostics;

namespace JobDedup.RabbitMq.Consuming.Acking;

/// <summary>
/// One delivery held by the consumer until it is settled exactly once. It owns its state (<see cref="DeliveryState"/>),
/// changed only by the named transitions below, each a compare-and-swap; the window that lists it links it to its
/// neighbours in tag order.
/// </summary>
/// <param name="deliveryTag">The broker's tag for it on its channel.</param>
/// <param name="message">The message, its body copied out of the client's buffer.</param>
internal sealed class Delivery(ulong deliveryTag, RabbitMqMessage message)
{
    private int _state = (int)DeliveryState.Received;
    private int _counted;
    private Activity? _span;

    public ulong DeliveryTag { get; } = deliveryTag;

    public RabbitMqMessage Message { get; } = message;

    /// <summary>Records the delivery's span (null when untraced), ended once when it is settled.</summary>
    internal void SetSpan(Activity? span) => _span = span;

    /// <summary>Takes the delivery's span to end it; only the first caller gets it.</summary>
    internal Activity? TakeSpan() => Volatile.Read(ref _span) is null ? null : Interlocked.Exchange(ref _span, null);

    /// <summary>Gets or sets the dedupe key, once known.</summary>
    public string? Key { get; set; }

    /// <summary>Gets the connection generation of the window that listed it (0 until listed).</summary>
    public int Generation { get; private set; }

    /// <summary>Gets the window of the channel it arrived on, which acks it (null until listed).</summary>
    public AckWindow? Window { get; private set; }

    public DeliveryState State => (DeliveryState)Volatile.Read(ref _state);

    /// <summary>Gets a value indicating whether the broker already took it back (it comes again by itself).</summary>
    public bool IsStale => State == DeliveryState.Stale;

    /// <summary>Gets the older neighbour in its window's list (guarded by the window's lock).</summary>
    internal Delivery? Older { get; set; }

    /// <summary>Gets the newer neighbour in its window's list (guarded by the window's lock).</summary>
    internal Delivery? Newer { get; set; }

    /// <summary>InProgress → Settling: takes the right to settle it; only the first caller, and only while it is in progress, gets it.</summary>
    public bool TryStartSettling() => Move(DeliveryState.InProgress, DeliveryState.Settling);

    /// <summary>Marks it as counted among the consumer's unsettled deliveries (once, at intake).</summary>
    internal void MarkCounted() => Volatile.Write(ref _counted, 1);

    /// <summary>Takes it off the count of unsettled deliveries; true only for the first caller, and only if it was counted.</summary>
    internal bool TryUncount() => Interlocked.Exchange(ref _counted, 0) == 1;

    /// <summary>Received → InProgress, when <paramref name="window"/> lists it in <paramref name="generation"/>.</summary>
    internal void List(AckWindow window, int generation)
    {
        Window = window;
        Generation = generation;
        var moved = Move(DeliveryState.Received, DeliveryState.InProgress);
        Debug.Assert(moved, "a delivery is listed once");
    }

    /// <summary>Settling → Ready.</summary>
    internal bool TryMarkReady() => Move(DeliveryState.Settling, DeliveryState.Ready);

    /// <summary>Ready → Acked, when its ack is queued for the wire.</summary>
    internal void MarkAcked()
    {
        var moved = Move(DeliveryState.Ready, DeliveryState.Acked);
        Debug.Assert(moved, "only a ready delivery is acked");
    }

    /// <summary>InProgress or Settling → Requeued, when its nack is queued for the wire.</summary>
    internal bool TryMarkRequeued() =>
        Move(DeliveryState.Settling, DeliveryState.Requeued) || Move(DeliveryState.InProgress, DeliveryState.Requeued);

    /// <summary>Any state short of settled → Stale: its connection or channel is gone.</summary>
    internal bool TryMarkStale()
    {
        while (true)
        {
            var current = Volatile.Read(ref _state);
            if (current is (int)DeliveryState.Acked or (int)DeliveryState.Requeued or (int)DeliveryState.Stale)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _state, (int)DeliveryState.Stale, current) == current)
            {
                return true;
            }
        }
    }

    private bool Move(DeliveryState from, DeliveryState to) =>
        Interlocked.CompareExchange(ref _state, (int)to, (int)from) == (int)from;
}
