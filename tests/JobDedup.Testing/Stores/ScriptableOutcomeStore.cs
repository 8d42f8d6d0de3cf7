namespace JobDedup.Testing;

/// <summary>
/// The one fake outcome store of the test suites. Every operation passes through to an inner store (a
/// <see cref="MemoryClaimingStore{TResult}"/> unless another is given) unless the test scripted it to throw
/// synchronously, return a faulted task, wait asynchronously at a <see cref="StoreGate"/>, or block its thread at one.
/// Every call is recorded and counted (<see cref="CountOf"/>). It is a claiming store; <see cref="AsPlainStore"/> shows it as a plain one.
/// </summary>
/// <remarks>
/// A script applies to the operation on one key (or any key when <c>key</c> is <see langword="null"/>) for a number of
/// calls; the most recent matching script wins, and an operation with none left passes through.
/// </remarks>
public sealed class ScriptableOutcomeStore<TResult> : IClaimingOutcomeStore<TResult>
{
    private readonly IClaimingOutcomeStore<TResult> _inner;
    private readonly Lock _sync = new();
    private readonly List<Script> _scripts = [];
    private readonly List<StoreCall> _calls = [];
    private readonly List<string> _granted = [];
    private long _lastGrantedToken;

    /// <summary>Initializes a store that passes through to a <see cref="MemoryClaimingStore{TResult}"/>.</summary>
    /// <param name="clock">The clock for leases and retention; the system clock when omitted.</param>
    public ScriptableOutcomeStore(TimeProvider? clock = null)
        : this(new MemoryClaimingStore<TResult>(clock ?? TimeProvider.System))
    {
    }

    /// <summary>Initializes a store that passes through to <paramref name="inner"/>.</summary>
    /// <param name="inner">The store unscripted calls go to.</param>
    public ScriptableOutcomeStore(IClaimingOutcomeStore<TResult> inner)
    {
        _inner = inner;
    }

    /// <summary>Gets the store calls pass through to.</summary>
    public IClaimingOutcomeStore<TResult> Inner => _inner;

    /// <summary>Gets the fencing token of the last claim the inner store granted, 0 before any.</summary>
    public long LastGrantedToken
    {
        get
        {
            lock (_sync)
            {
                return _lastGrantedToken;
            }
        }
    }

    /// <summary>Returns this store as a plain <see cref="IOutcomeStore{TResult}"/> that a deduplicator cannot claim with.</summary>
    /// <returns>A view that shares this store's scripts, calls and contents.</returns>
    public IOutcomeStore<TResult> AsPlainStore() => new PlainView(this);

    /// <summary>Counts the calls of one operation, on one key or on any.</summary>
    /// <param name="operation">The operation.</param>
    /// <param name="key">The key; any key when <see langword="null"/>.</param>
    /// <returns>The count.</returns>
    public int CountOf(StoreOperation operation, string? key = null)
    {
        lock (_sync)
        {
            return _calls.Count(c => c.Operation == operation && (key is null || c.Key == key));
        }
    }

    /// <summary>Counts the claims the inner store granted (the call returned <see cref="ClaimState.Claimed"/>), on one key or on any.</summary>
    /// <param name="key">The key; any key when <see langword="null"/>.</param>
    /// <returns>The count.</returns>
    public int CountOfGranted(string? key = null)
    {
        lock (_sync)
        {
            return _granted.Count(k => key is null || k == key);
        }
    }

    /// <summary>Makes calls wait asynchronously at a gate, then go on as the gate says.</summary>
    /// <param name="operation">The operation.</param>
    /// <param name="key">The key; any key when <see langword="null"/>.</param>
    /// <param name="times">How many calls the script applies to.</param>
    /// <returns>The gate the calls wait at.</returns>
    public StoreGate Hold(StoreOperation operation, string? key = null, int times = int.MaxValue)
    {
        var gate = new StoreGate();
        Add(new Script(operation, key, times, Behavior.Hold, gate, null));
        return gate;
    }

    /// <summary>Makes calls block their thread at a gate before they return (a synchronous driver), then go on as the gate says.</summary>
    /// <param name="operation">The operation.</param>
    /// <param name="key">The key; any key when <see langword="null"/>.</param>
    /// <param name="times">How many calls the script applies to.</param>
    /// <returns>The gate the calls block at.</returns>
    public StoreGate Block(StoreOperation operation, string? key = null, int times = int.MaxValue)
    {
        var gate = new StoreGate();
        Add(new Script(operation, key, times, Behavior.Block, gate, null));
        return gate;
    }

    /// <summary>Makes calls throw before they return a task.</summary>
    /// <param name="operation">The operation.</param>
    /// <param name="exception">What they throw.</param>
    /// <param name="key">The key; any key when <see langword="null"/>.</param>
    /// <param name="times">How many calls the script applies to.</param>
    public void Throw(StoreOperation operation, Exception exception, string? key = null, int times = int.MaxValue) =>
        Add(new Script(operation, key, times, Behavior.Throw, null, exception));

    /// <summary>Makes calls return a faulted task.</summary>
    /// <param name="operation">The operation.</param>
    /// <param name="exception">What the task faults with.</param>
    /// <param name="key">The key; any key when <see langword="null"/>.</param>
    /// <param name="times">How many calls the script applies to.</param>
    public void Fault(StoreOperation operation, Exception exception, string? key = null, int times = int.MaxValue) =>
        Add(new Script(operation, key, times, Behavior.Fault, null, exception));

    /// <summary>Puts an outcome into the inner store without recording a call or running a script.</summary>
    /// <param name="scope">The deduplicator's name.</param>
    /// <param name="key">The key.</param>
    /// <param name="outcome">The outcome.</param>
    /// <param name="retention">How long it is kept.</param>
    /// <returns>A task that completes when it is kept.</returns>
    public ValueTask SeedAsync(string scope, string key, StoredOutcome<TResult> outcome, TimeSpan retention) =>
        _inner.SaveAsync(scope, key, outcome, retention, CancellationToken.None);

    /// <summary>Lets calls waiting in the in-memory store re-check after a lease lapses on the clock.</summary>
    public void Poke() => (_inner as MemoryClaimingStore<TResult>)?.Poke();

    public ValueTask<StoredOutcome<TResult>?> TryGetAsync(string scope, string key, CancellationToken cancellationToken) =>
        Run(new StoreCall(StoreOperation.TryGet, scope, key, null, 0), () => _inner.TryGetAsync(scope, key, cancellationToken));

    public ValueTask SaveAsync(string scope, string key, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken) =>
        Run(new StoreCall(StoreOperation.Save, scope, key, outcome.Value, 0), () => _inner.SaveAsync(scope, key, outcome, retention, cancellationToken));

    public ValueTask RemoveAsync(string scope, string key, CancellationToken cancellationToken) =>
        Run(new StoreCall(StoreOperation.Remove, scope, key, null, 0), () => _inner.RemoveAsync(scope, key, cancellationToken));

    public ValueTask ClearAsync(string scope, CancellationToken cancellationToken) =>
        Run(new StoreCall(StoreOperation.Clear, scope, null, null, 0), () => _inner.ClearAsync(scope, cancellationToken));

    public ValueTask<OutcomeClaim<TResult>> TryClaimAsync(string scope, string key, string owner, string? fingerprint, TimeSpan lease, CancellationToken cancellationToken) =>
        Run(new StoreCall(StoreOperation.TryClaim, scope, key, null, 0), () => ClaimThroughAsync(scope, key, owner, fingerprint, lease, cancellationToken));

    public ValueTask<bool> RenewAsync(string scope, string key, long fencingToken, TimeSpan lease, CancellationToken cancellationToken) =>
        Run(new StoreCall(StoreOperation.Renew, scope, key, null, fencingToken), () => _inner.RenewAsync(scope, key, fencingToken, lease, cancellationToken));

    public ValueTask<bool> CompleteAsync(string scope, string key, long fencingToken, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken) =>
        Run(
            new StoreCall(StoreOperation.Complete, scope, key, outcome.Value, fencingToken),
            () => _inner.CompleteAsync(scope, key, fencingToken, outcome, retention, cancellationToken));

    public ValueTask ReleaseAsync(string scope, string key, long fencingToken, CancellationToken cancellationToken) =>
        Run(new StoreCall(StoreOperation.Release, scope, key, null, fencingToken), () => _inner.ReleaseAsync(scope, key, fencingToken, cancellationToken));

    public ValueTask<StoredOutcome<TResult>?> WaitForOutcomeAsync(string scope, string key, CancellationToken cancellationToken) =>
        Run(new StoreCall(StoreOperation.WaitForOutcome, scope, key, null, 0), () => _inner.WaitForOutcomeAsync(scope, key, cancellationToken));

    private static async ValueTask<T> HoldAsync<T>(StoreGate gate, Func<ValueTask<T>> passThrough)
    {
        try
        {
            await gate.ArriveAsync();
            return await passThrough();
        }
        finally
        {
            gate.Leave();
        }
    }

    private static ValueTask<T> Block<T>(StoreGate gate, Func<ValueTask<T>> passThrough)
    {
        try
        {
            gate.ArriveAndBlock();
            return passThrough();
        }
        finally
        {
            gate.Leave();
        }
    }

    private async ValueTask<OutcomeClaim<TResult>> ClaimThroughAsync(
        string scope, string key, string owner, string? fingerprint, TimeSpan lease, CancellationToken cancellationToken)
    {
        var claim = await _inner.TryClaimAsync(scope, key, owner, fingerprint, lease, cancellationToken);
        if (claim.State == ClaimState.Claimed)
        {
            lock (_sync)
            {
                _granted.Add(key);
                _lastGrantedToken = claim.FencingToken;
            }
        }

        return claim;
    }

    private ValueTask Run(StoreCall call, Func<ValueTask> passThrough)
    {
        var result = Run(call, async () =>
        {
            await passThrough();
            return true;
        });
        return result.IsCompletedSuccessfully ? default : new ValueTask(result.AsTask());
    }

    private ValueTask<T> Run<T>(StoreCall call, Func<ValueTask<T>> passThrough)
    {
        var script = Arrive(call);
        switch (script?.Behavior)
        {
            case Behavior.Throw:
                throw script.Exception!;
            case Behavior.Fault:
                return ValueTask.FromException<T>(script.Exception!);
            case Behavior.Hold:
                return HoldAsync(script.Gate!, passThrough);
            case Behavior.Block:
                return Block(script.Gate!, passThrough);
            default:
                return passThrough();
        }
    }

    private Script? Arrive(StoreCall call)
    {
        lock (_sync)
        {
            _calls.Add(call);
            for (var i = _scripts.Count - 1; i >= 0; i--)
            {
                var script = _scripts[i];
                if (script.Operation != call.Operation || (script.Key is not null && script.Key != call.Key))
                {
                    continue;
                }

                if (--script.Remaining == 0)
                {
                    _scripts.RemoveAt(i);
                }

                return script;
            }

            return null;
        }
    }

    private void Add(Script script)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(script.Remaining);
        lock (_sync)
        {
            _scripts.Add(script);
        }
    }

    private enum Behavior
    {
        Throw,
        Fault,
        Hold,
        Block,
    }

    private sealed class Script(StoreOperation operation, string? key, int remaining, Behavior behavior, StoreGate? gate, Exception? exception)
    {
        public StoreOperation Operation { get; } = operation;

        public string? Key { get; } = key;

        public int Remaining { get; set; } = remaining;

        public Behavior Behavior { get; } = behavior;

        public StoreGate? Gate { get; } = gate;

        public Exception? Exception { get; } = exception;
    }

    /// <summary>Only the plain store's operations, so a deduplicator keeps the window itself and never claims.</summary>
    private sealed class PlainView(ScriptableOutcomeStore<TResult> store) : IOutcomeStore<TResult>
    {
        public ValueTask<StoredOutcome<TResult>?> TryGetAsync(string scope, string key, CancellationToken cancellationToken) =>
            store.TryGetAsync(scope, key, cancellationToken);

        public ValueTask SaveAsync(string scope, string key, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken) =>
            store.SaveAsync(scope, key, outcome, retention, cancellationToken);

        public ValueTask RemoveAsync(string scope, string key, CancellationToken cancellationToken) =>
            store.RemoveAsync(scope, key, cancellationToken);

        public ValueTask ClearAsync(string scope, CancellationToken cancellationToken) =>
            store.ClearAsync(scope, cancellationToken);
    }
}
