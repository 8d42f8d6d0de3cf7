namespace JobDedup.Redis.Connection;

/// <summary>The one lifecycle of a cache's Redis link.</summary>
internal enum LinkState
{
    /// <summary>No command has run yet: the first caller connects.</summary>
    NotConnected,

    /// <summary>Redis answers: values are read and stored there.</summary>
    Up,

    /// <summary>Redis failed: factories are called directly until the retry time, when one command tries again.</summary>
    Down,

    /// <summary>The cache was disposed.</summary>
    Disposed,
}
