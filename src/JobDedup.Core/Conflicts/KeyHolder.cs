namespace JobDedup.Conflicts;

/// <summary>What holds an arriving job's key in this deduplicator, as the duplicate policy sees it.</summary>
internal enum KeyHolder
{
    /// <summary>Nobody: no owner, or one that already released the key.</summary>
    None,

    /// <summary>A flight whose handler has not started yet (it waits for a debounce, the key's previous owner, a claim or a slot).</summary>
    Pending,

    /// <summary>A flight whose handler started and whose outcome is not delivered yet.</summary>
    Running,

    /// <summary>A flight every caller left; its handler may still be running until it ends.</summary>
    Abandoned,

    /// <summary>A flight that delivered its outcome and is giving the key up, or a forget's barrier: nobody joins it.</summary>
    Closed,
}
