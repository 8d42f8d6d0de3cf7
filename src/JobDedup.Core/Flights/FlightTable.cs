using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace JobDedup.Flights;

/// <summary>
/// The in-flight map, key to flight. Lookups take no lock; a flight removes itself only if it is still the one
/// mapped to its key, so an old flight finishing after <see cref="Forget"/> never removes its successor.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TFlight">The flight type.</typeparam>
internal sealed class FlightTable<TKey, TFlight>
    where TKey : notnull
    where TFlight : Flight<TKey>
{
    private readonly ConcurrentDictionary<TKey, TFlight> _flights;

    public FlightTable(IEqualityComparer<TKey>? comparer = null)
    {
        _flights = new ConcurrentDictionary<TKey, TFlight>(comparer);
    }

    /// <summary>Gets the number of keys in flight.</summary>
    public int Count => _flights.Count;

    /// <summary>
    /// Finds the flight for <paramref name="key"/> and attaches the caller to it. A closed flight still in the map
    /// (abandoned, or completing) is taken out so that the caller can start a fresh one.
    /// </summary>
    public bool TryJoin(TKey key, [NotNullWhen(true)] out TFlight? flight)
    {
        while (_flights.TryGetValue(key, out var found))
        {
            if (found.TryJoin())
            {
                flight = found;
                return true;
            }

            _flights.TryRemove(new KeyValuePair<TKey, TFlight>(key, found));
        }

        flight = null;
        return false;
    }

    /// <summary>Maps a new flight to its key; fails when another caller mapped one first.</summary>
    public bool TryAdd(TFlight flight) => _flights.TryAdd(flight.Key, flight);

    /// <summary>Removes <paramref name="flight"/> if it is still the one mapped to its key.</summary>
    public void Remove(TFlight flight) => _flights.TryRemove(new KeyValuePair<TKey, TFlight>(flight.Key, flight));

    /// <summary>Takes the key out of the map; the flight itself runs on for the callers it has.</summary>
    public bool Forget(TKey key)
    {
        if (!_flights.TryRemove(key, out var forgotten))
        {
            return false;
        }

        forgotten.MarkForgotten();
        return true;
    }

    /// <summary>Takes every key out of the map.</summary>
    public void ForgetAll()
    {
        foreach (var entry in _flights)
        {
            if (_flights.TryRemove(entry))
            {
                entry.Value.MarkForgotten();
            }
        }
    }
}
