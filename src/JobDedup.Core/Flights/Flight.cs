using System.Diagnostics.CodeAnalysis;

namespace JobDedup.Flights;

/// <summary>
/// What every flight shares, whichever front end started it (<see cref="JobDeduplicator{TJob, TResult}"/> or
/// <see cref="SharedCall{TKey, TResult}"/>): its key, the count of callers still attached, and the token its handler runs with.
/// </summary>
/// <remarks>
/// The attached count is changed with compare-and-swap only, so joining costs no lock and no allocation. A flight is
/// closed once it completes or is abandoned (its last caller left); a closed flight accepts no one, and the next
/// caller for its key starts a new flight.
/// </remarks>
/// <typeparam name="TKey">The key type.</typeparam>
[SuppressMessage(
    "Design",
    "CA1001:Types that own disposable fields should be disposable",
    Justification = "The token source has no timer, so disposing frees nothing; a handler left behind after a timeout may still hold its token.")]
internal abstract class Flight<TKey>
    where TKey : notnull
{
    private const int Closed = int.MinValue;

    private readonly CancellationTokenSource? _handlerCancellation;
    private readonly bool _runToCompletionWhenAbandoned;
    private int _attached;
    private volatile bool _forgotten;

    /// <param name="key">The key.</param>
    /// <param name="attached">Callers attached at creation (1 when the leader is counted at once).</param>
    /// <param name="cancellable">
    /// Whether the handler may ever need to be canceled. When every caller waits without a token and nothing can stop
    /// the flight, no token source is allocated.
    /// </param>
    /// <param name="runToCompletionWhenAbandoned">Keep the handler running after the last caller leaves.</param>
    protected Flight(TKey key, int attached, bool cancellable, bool runToCompletionWhenAbandoned)
    {
        Key = key;
        _attached = attached;
        _runToCompletionWhenAbandoned = runToCompletionWhenAbandoned;
        if (cancellable)
        {
            _handlerCancellation = new CancellationTokenSource();
        }
    }

    public TKey Key { get; }

    /// <summary>Gets the token the handler runs with.</summary>
    public CancellationToken HandlerToken => _handlerCancellation?.Token ?? SharedToken;

    /// <summary>Gets a value indicating whether the flight has a token source of its own (it can be abandoned).</summary>
    public bool HasOwnCancellation => _handlerCancellation is not null;

    /// <summary>Gets the number of callers still waiting (0 once closed).</summary>
    public int AttachedCount => Math.Max(0, Volatile.Read(ref _attached));

    /// <summary>
    /// Gets a value indicating whether <c>Forget</c> took this flight out of the map: its outcome still goes to its
    /// callers but is not kept for the dedupe window, where it could shadow a newer flight's.
    /// </summary>
    public bool IsForgotten => _forgotten;

    public void MarkForgotten() => _forgotten = true;

    /// <summary>Attaches one more caller unless the flight is closed.</summary>
    /// <returns><see langword="true"/> when the caller is attached.</returns>
    public bool TryJoin()
    {
        var current = Volatile.Read(ref _attached);
        while (current != Closed)
        {
            var seen = Interlocked.CompareExchange(ref _attached, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>
    /// Detaches one caller. When the last one leaves, the flight closes and its handler token fires, unless the
    /// flight runs to completion when abandoned. Must be called at most once per successful join.
    /// </summary>
    public void Leave()
    {
        var current = Volatile.Read(ref _attached);
        while (current > 0)
        {
            var next = current == 1 && !_runToCompletionWhenAbandoned ? Closed : current - 1;
            var seen = Interlocked.CompareExchange(ref _attached, next, current);
            if (seen == current)
            {
                if (next == Closed)
                {
                    CancelHandler();
                }

                return;
            }

            current = seen;
        }
    }

    /// <summary>Closes the flight so that no one else joins it.</summary>
    /// <returns><see langword="true"/> for the call that closed it.</returns>
    public bool Close() => Interlocked.Exchange(ref _attached, Closed) != Closed;

    /// <summary>Fires the handler token. Runs the handler's cancellation callbacks, so never call it under a lock.</summary>
    public void CancelHandler()
    {
        try
        {
            _handlerCancellation?.Cancel();
        }
        catch (AggregateException)
        {
            // A handler's own cancellation callback threw; the handler sees the token fired all the same.
        }
    }

    /// <summary>
    /// Gets the handler token of a flight with no token source of its own (a deduplicator's shutdown token, say).
    /// Kept out of the base so that a flight that needs none stays small.
    /// </summary>
    protected virtual CancellationToken SharedToken => CancellationToken.None;
}
