namespace JobDedup.Worker.Settings;

/// <summary>What a pipeline compares, besides the key, before it lets a message join or replay another's outcome.</summary>
public enum PayloadFingerprint
{
    /// <summary>Nothing: a message with a known key is a duplicate, whatever its body.</summary>
    None,

    /// <summary>The body's bytes (their SHA-256): any difference makes it another job.</summary>
    Body,

    /// <summary>
    /// The body read as JSON, in its canonical form (members sorted, no white space), so formatting differences do
    /// not count. A body that is not JSON fails permanently, without a run, and is dead-lettered as
    /// <c>permanent-failure</c>.
    /// </summary>
    Json,
}
