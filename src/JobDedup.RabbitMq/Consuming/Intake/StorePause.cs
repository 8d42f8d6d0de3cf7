using JobDedup.RabbitMq.Consuming.Connecting;
using JobDedup.RabbitMq.Telemetry;
using Microsoft.Extensions.Logging;

namespace JobDedup.RabbitMq.Consuming.Intake;

/// <summary>
/// Pauses the consumer's intake while the deduplicator's outcome store is unavailable, and resumes it by itself once
/// the store answers again. It follows the deduplicator's store state: each change is applied in order by one loop,
/// so a quick succession of changes never leaves the consumers registered while the store is down.
/// </summary>
/// <remarks>
/// While paused the broker delivers nothing; deliveries already in hand end as <see cref="JobStatus.Unavailable"/>
/// and go back to the queue without counting a delivery attempt.
/// </remarks>
internal sealed class StorePause
{
    private readonly string _consumer;
    private readonly IOutcomeStoreMonitor? _monitor;
    private readonly ConsumerConnection _connection;
    private readonly Func<int> _pending;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;

    /// <summary>Guards <see cref="_applying"/>.</summary>
    private readonly Lock _applyLock = new();
    private bool _applying;
    private bool _paused;

    public StorePause(string consumer, IOutcomeStoreMonitor? monitor, ConsumerConnection connection, Func<int> pending, ILogger logger, CancellationToken stopping)
    {
        _consumer = consumer;
        _monitor = monitor;
        _connection = connection;
        _pending = pending;
        _logger = logger;
        _stopping = stopping;
    }

    /// <summary>Gets whether the store is unavailable now (or being tested), so intake must not take work.</summary>
    public bool StoreDown => _monitor is { StoreState: not OutcomeStoreState.Available };

    /// <summary>Gets the store's state, for health.</summary>
    public OutcomeStoreState StoreState => _monitor?.StoreState ?? OutcomeStoreState.Available;

    /// <summary>Gets whether intake is paused now.</summary>
    public bool IsPaused => Volatile.Read(ref _paused);

    /// <summary>Starts following the store, once consuming began; a store already down pauses intake at once.</summary>
    public void Start()
    {
        if (_monitor is null)
        {
            return;
        }

        _monitor.StoreStateChanged += OnStoreStateChanged;
        Apply();
    }

    /// <summary>Stops following the store (shutdown: the consumers are cancelled anyway).</summary>
    public void Stop()
    {
        if (_monitor is not null)
        {
            _monitor.StoreStateChanged -= OnStoreStateChanged;
        }
    }

    private void OnStoreStateChanged(object? sender, OutcomeStoreState state) => Apply();

    /// <summary>Brings intake in line with the store, unless a loop already does; that loop then looks again.</summary>
    private void Apply()
    {
        lock (_applyLock)
        {
            if (_applying)
            {
                return;
            }

            _applying = true;
        }

        _ = ApplyAsync();
    }

    private async Task ApplyAsync()
    {
        while (true)
        {
            try
            {
                // Paused for as long as the store is not known to answer; resumed only once a trial call succeeded.
                var pause = StoreDown;
                if (pause && !IsPaused)
                {
                    Volatile.Write(ref _paused, true);
                    if (await _connection.PauseAsync(_stopping).ConfigureAwait(false))
                    {
                        Log.IntakePaused(_logger, _consumer, _pending());
                    }
                }
                else if (!pause && IsPaused)
                {
                    Volatile.Write(ref _paused, false);
                    if (await _connection.UnpauseAsync(_stopping).ConfigureAwait(false))
                    {
                        Log.IntakeResumed(_logger, _consumer);
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !_stopping.IsCancellationRequested)
            {
                Log.UnexpectedFailure(_logger, _consumer, null, ex);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            lock (_applyLock)
            {
                if (StoreDown == IsPaused || _stopping.IsCancellationRequested)
                {
                    _applying = false;
                    return;
                }
            }
        }
    }
}
