using JobDedup.HttpBench.Load;

namespace JobDedup.HttpBench.Scenarios;

/// <summary>Scenarios (a) and (b): the cheap endpoint without the filter, with it on new keys, and replays of one key.</summary>
/// <param name="WarmUp">How the contenders warmed up before the first measured round.</param>
/// <param name="Plain">Without the filter.</param>
/// <param name="NewKeys">With the filter, each request a new key (the handler runs every time).</param>
/// <param name="Replays">With the filter, every request the one stored key (answered from the store).</param>
/// <param name="ReplayMarked">How many replay answers carried the replay header.</param>
/// <param name="PlainEmpty">Without the filter, no body: for reading the overhead.</param>
/// <param name="NewKeysEmpty">With the filter, new keys, no body: the filter's cost apart from reading and fingerprinting a body.</param>
internal sealed record ThroughputResult(WarmUp WarmUp, Phase Plain, Phase NewKeys, Phase Replays, int ReplayMarked, Phase PlainEmpty, Phase NewKeysEmpty);
