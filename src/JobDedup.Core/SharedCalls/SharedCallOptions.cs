namespace JobDedup;

/// <summary>Settings of a <see cref="SharedCall{TKey, TResult}"/>.</summary>
public sealed class SharedCallOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether the work keeps running after every caller has left. When false, the
    /// work's token fires as the last caller leaves.
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool RunToCompletionWhenAbandoned { get; set; }

    /// <summary>
    /// Gets or sets the name the shared call's metrics are tagged with (<see cref="JobDedupTelemetry.DeduplicatorTag"/>).
    /// </summary>
    /// <value>The default is <c>shared-call</c>.</value>
    public string Name { get; set; } = "shared-call";

    /// <summary>
    /// Gets or sets the longest string key accepted, in UTF-8 bytes. With string keys, a longer one, or one holding a
    /// control character, a line or paragraph separator or a lone surrogate, is refused with an
    /// <see cref="ArgumentException"/> (see <see cref="KeyPolicy"/>). Keys of other types are not checked.
    /// </summary>
    /// <value>The default is 1024 (<see cref="KeyPolicy.DefaultMaxKeyBytes"/>); at most 65,536.</value>
    public int MaxKeyBytes { get; set; } = KeyPolicy.DefaultMaxKeyBytes;
}
