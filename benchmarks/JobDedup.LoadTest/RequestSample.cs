namespace JobDedup.LoadTest;

/// <summary>What one request measured.</summary>
/// <param name="LatencySeconds">From just before sending to the last byte of the body.</param>
/// <param name="Succeeded">True for a 200 answer whose body is the requested product.</param>
/// <param name="Failure">Why it failed (status code or exception type); null on success.</param>
internal readonly record struct RequestSample(double LatencySeconds, bool Succeeded, string? Failure);
