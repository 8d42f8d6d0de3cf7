using System.Threading.RateLimiting;

namespace JobDedup.Demo.Simulation;

/// <summary>
/// A stand-in upstream API that allows a fixed number of requests per window and refuses the rest at once
/// (no queueing), like an HTTP service answering 429 Too Many Requests.
/// </summary>
internal sealed class RateLimitedUpstream : IAsyncDisposable
{
    private readonly FixedWindowRateLimiter _limiter;
    private readonly TimeSpan _responseTime;
    private int _calls;
    private int _refused;

    public RateLimitedUpstream(int requestsPerWindow, TimeSpan window, TimeSpan responseTime)
    {
        _limiter = new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
        {
            PermitLimit = requestsPerWindow,
            Window = window,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
        _responseTime = responseTime;
    }

    /// <summary>Gets how many requests reached the upstream.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Gets how many requests the upstream refused for being over its limit.</summary>
    public int Refused => Volatile.Read(ref _refused);

    public async Task<string> GetAsync(string resource, CancellationToken cancellationToken = default)
    {
        var number = Interlocked.Increment(ref _calls);
        using var lease = _limiter.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            Interlocked.Increment(ref _refused);
            throw new UpstreamRefusedException($"Request #{number} for {resource} is over the rate limit.");
        }

        await Task.Delay(_responseTime, cancellationToken);
        return $"{resource} (request #{number})";
    }

    public ValueTask DisposeAsync() => _limiter.DisposeAsync();
}
