using System.Diagnostics;
using JobDedup.Telemetry;
using Polly;
using Polly.CircuitBreaker;

namespace JobDedup.Resilience;

/// <summary>
/// The one circuit breaker of a deduplicator's outcome store: every store call goes through it, the store's failures
/// (never a handler's) are counted, and once too many fail the calls are refused without reaching the store for the
/// break duration. It then tests the store with one call of its own, so that the store comes back even when no job
/// arrives (a transport that paused its intake sends none). Each state change is logged once and announced.
/// </summary>
internal sealed class StoreBreaker : IDisposable
{
    /// <summary>The key the trial call reads; it is never written.</summary>
    internal const string ProbeKey = "jobdedup.store-probe";

    private readonly ResiliencePipeline _pipeline;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _breakDuration;
    private readonly EngineLog _log;
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Guards <see cref="_state"/>.</summary>
    private readonly Lock _stateLock = new();
    private OutcomeStoreState _state = OutcomeStoreState.Available;
    private Func<CancellationToken, ValueTask>? _probe;

    public StoreBreaker(double failureRatio, int minimumThroughput, TimeSpan samplingDuration, TimeSpan breakDuration, TimeProvider timeProvider, EngineLog log)
    {
        _timeProvider = timeProvider;
        _breakDuration = breakDuration;
        _log = log;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = timeProvider, Name = $"{log.Name}-store" }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = failureRatio,
                MinimumThroughput = minimumThroughput,
                SamplingDuration = samplingDuration,
                BreakDuration = breakDuration,
                ShouldHandle = static args => new ValueTask<bool>(IsStoreFailure(args.Outcome.Exception, args.Context.CancellationToken)),
                OnOpened = args =>
                {
                    OnChanged(OutcomeStoreState.Unavailable, args.Outcome.Exception);
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    OnChanged(OutcomeStoreState.Recovering, null);
                    return default;
                },
                OnClosed = _ =>
                {
                    OnChanged(OutcomeStoreState.Available, null);
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Raised once per state change, in order, after it was logged.</summary>
    public event Action<OutcomeStoreState>? Changed;

    public OutcomeStoreState State
    {
        get
        {
            lock (_stateLock)
            {
                return _state;
            }
        }
    }

    /// <summary>Sets the cheap call that tests the store once the break is over.</summary>
    public void UseProbe(Func<CancellationToken, ValueTask> probe) => _probe = probe;

    /// <summary>Runs one store call through the breaker.</summary>
    /// <exception cref="OutcomeStoreUnavailableException">The store failed, or was not called because the breaker is open.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public async ValueTask<T> RunAsync<TState, T>(Func<TState, CancellationToken, ValueTask<T>> call, TState state, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipeline.ExecuteAsync(call, state, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (Unavailable(ex, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    /// <inheritdoc cref="RunAsync{TState, T}"/>
    public async ValueTask RunAsync<TState>(Func<TState, CancellationToken, ValueTask> call, TState state, CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.ExecuteAsync(call, state, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (Unavailable(ex, cancellationToken) is { } unavailable)
        {
            throw unavailable;
        }
    }

    /// <summary>Stops testing the store (shutdown).</summary>
    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    /// <summary>A store failure is any exception but a cancellation its caller asked for.</summary>
    private static bool IsStoreFailure(Exception? exception, CancellationToken cancellationToken) =>
        exception is not null && !(exception is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private OutcomeStoreUnavailableException? Unavailable(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        BrokenCircuitException refused => new OutcomeStoreUnavailableException(
            $"The outcome store of deduplicator '{_log.Name}' failed repeatedly; calls to it are paused for now.", refused, isCircuitOpen: true),
        OutcomeStoreUnavailableException => null,
        _ when !IsStoreFailure(exception, cancellationToken) => null,
        _ => new OutcomeStoreUnavailableException(
            $"The outcome store of deduplicator '{_log.Name}' failed: {exception.Message}", exception, isCircuitOpen: false),
    };

    private void OnChanged(OutcomeStoreState state, Exception? cause)
    {
        OutcomeStoreState previous;
        lock (_stateLock)
        {
            previous = _state;
            if (previous == state)
            {
                return;
            }

            _state = state;
            AssertInvariants();
        }

        switch (state)
        {
            case OutcomeStoreState.Unavailable when previous == OutcomeStoreState.Recovering:
                // The trial call failed: one short line per break, the stack trace was logged when the store went away.
                _log.Write(
                    static (logger, name, s) => Log.StoreStillOpen(logger, name, s.Reason, s.Item2),
                    (Reason: cause?.Message ?? "the trial call failed", _breakDuration));
                _ = ProbeAfterBreakAsync();
                break;
            case OutcomeStoreState.Unavailable:
                _log.Write(static (logger, name, s) => Log.StoreOpened(logger, name, s.Item1, s.cause), (_breakDuration, cause));
                _ = ProbeAfterBreakAsync();
                break;
            case OutcomeStoreState.Recovering:
                _log.Write(static (logger, name, _) => Log.StoreHalfOpened(logger, name), 0);
                break;
            default:
                _log.Write(static (logger, name, _) => Log.StoreClosed(logger, name), 0);
                break;
        }

        try
        {
            Changed?.Invoke(state);
        }
        catch (Exception)
        {
            // A listener failed; the breaker goes on.
        }
    }

    /// <summary>Tests the store once the break is over, unless a call of a job does it first. Never throws.</summary>
    private async Task ProbeAfterBreakAsync()
    {
        if (_probe is not { } probe)
        {
            return;
        }

        CancellationToken stopping;
        try
        {
            stopping = _stopping.Token;
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        try
        {
            await Task.Delay(_breakDuration, _timeProvider, stopping).ConfigureAwait(false);
            while (State == OutcomeStoreState.Unavailable)
            {
                try
                {
                    await RunAsync(static (p, ct) => p(ct), probe, stopping).ConfigureAwait(false);
                    return;
                }
                catch (OutcomeStoreUnavailableException ex) when (ex.IsCircuitOpen)
                {
                    // Not quite over yet, or a job's call is the trial: look again shortly.
                    await Task.Delay(_breakDuration / 10, _timeProvider, stopping).ConfigureAwait(false);
                }
                catch (OutcomeStoreUnavailableException)
                {
                    return; // the trial failed: the breaker opened again and tests again after the next break
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The deduplicator stopped.
        }
        catch (Exception)
        {
            // Never escapes: the next job's call tests the store anyway.
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_stateLock.IsHeldByCurrentThread, "the state is changed under its lock");
        Debug.Assert(Enum.IsDefined(_state), "the state is one of the three");
    }
}
