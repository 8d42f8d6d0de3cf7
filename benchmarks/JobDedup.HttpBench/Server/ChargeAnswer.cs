namespace JobDedup.HttpBench.Server;

/// <summary>What every benchmark endpoint answers: the charge a handler run made.</summary>
/// <param name="ChargeId">The id the run gave the charge; a second run for one key gives another.</param>
/// <param name="Amount">The amount charged.</param>
/// <param name="Currency">The currency.</param>
internal sealed record ChargeAnswer(string ChargeId, long Amount, string Currency);
