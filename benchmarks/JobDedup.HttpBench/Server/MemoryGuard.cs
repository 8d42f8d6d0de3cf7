using System.Collections.Concurrent;

namespace JobDedup.HttpBench.Server;

/// <summary>
/// The guard a user writes without a library, in memory: look the key up in a table; if it is absent, run the handler
/// and insert its answer. Two requests that look before either inserts both run.
/// </summary>
internal sealed class MemoryGuard(ChargeWork work)
{
    private readonly ConcurrentDictionary<string, ChargeAnswer> _answers = new(StringComparer.Ordinal);

    /// <summary>Answers a request: the stored answer for a key seen before, otherwise a new charge.</summary>
    public async Task<ChargeAnswer> HandleAsync(string key, ChargeRequest request, CancellationToken cancellationToken)
    {
        if (_answers.TryGetValue(key, out var stored))
        {
            return stored;
        }

        var answer = await work.ChargeAsync(key, request, cancellationToken);
        _answers.TryAdd(key, answer);
        return answer;
    }
}
