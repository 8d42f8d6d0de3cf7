namespace JobDedup;

/// <summary>What a handler knows about the attempt it is running.</summary>
public sealed class JobContext
{
    internal JobContext(string deduplicatorName, string key, int attempt, bool leaderChanged)
    {
        DeduplicatorName = deduplicatorName;
        Key = key;
        Attempt = attempt;
        LeaderChanged = leaderChanged;
    }

    /// <summary>Gets the name of the deduplicator running the job.</summary>
    public string DeduplicatorName { get; }

    /// <summary>Gets the dedupe key of the flight.</summary>
    public string Key { get; }

    /// <summary>Gets the attempt number, starting at 1.</summary>
    public int Attempt { get; }

    /// <summary>
    /// Gets a value indicating whether the caller whose job is being run is not the one that started the flight:
    /// the earlier leader left and the oldest caller still waiting took its place.
    /// </summary>
    public bool LeaderChanged { get; }
}
