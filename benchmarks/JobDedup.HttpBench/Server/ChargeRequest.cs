namespace JobDedup.HttpBench.Server;

/// <summary>The body every benchmark POST carries: a small payment, as a client would send it.</summary>
/// <param name="Amount">The amount in minor units.</param>
/// <param name="Currency">The currency code.</param>
internal sealed record ChargeRequest(long Amount, string Currency);
