using System.Collections.Concurrent;
using System.Globalization;

namespace JobDedup.HttpBench.Server;

/// <summary>
/// The handler behind every endpoint: "charges" a request and counts its runs per key. The cheap endpoints charge at
/// once; the contended ones wait <see cref="Work"/> first, standing in for the call to a payment service.
/// </summary>
internal sealed class ChargeWork
{
    /// <summary>How long a contended charge takes.</summary>
    public static readonly TimeSpan Work = TimeSpan.FromMilliseconds(20);

    /// <summary>What the endpoints without a body charge.</summary>
    public static readonly ChargeRequest EmptyRequest = new(1, "EUR");

    private readonly ConcurrentDictionary<string, int> _runs = new(StringComparer.Ordinal);
    private long _charges;

    /// <summary>Gets how many runs there were in all.</summary>
    public long TotalRuns => Interlocked.Read(ref _charges);

    /// <summary>Gets how many runs the key had.</summary>
    public int RunsOf(string key) => _runs.GetValueOrDefault(key);

    /// <summary>A charge with no waiting: the cheapest handler an endpoint can have, so the filter's own cost shows.</summary>
    public ChargeAnswer Cheap(ChargeRequest request) =>
        new(string.Create(CultureInfo.InvariantCulture, $"ch_{Interlocked.Increment(ref _charges)}"), request.Amount, request.Currency);

    /// <summary>A charge that takes <see cref="Work"/>, counted under its key.</summary>
    public async Task<ChargeAnswer> ChargeAsync(string key, ChargeRequest request, CancellationToken cancellationToken)
    {
        _runs.AddOrUpdate(key, 1, (_, n) => n + 1);
        await Task.Delay(Work, cancellationToken);
        return Cheap(request);
    }
}
