namespace JobDedup.Dispatching;

/// <summary>Where one caller of <c>EnqueueAsync</c> is. Queued → Attached → Completed, or Left from either of the first two.</summary>
internal enum WaiterState
{
    /// <summary>In the queue, or being dispatched; no flight counts it yet.</summary>
    Queued,

    /// <summary>A flight counts it and will deliver its outcome.</summary>
    Attached,

    /// <summary>Its outcome was delivered.</summary>
    Completed,

    /// <summary>Its token fired first: it got a canceled outcome and left its flight, if it had one.</summary>
    Left,
}
