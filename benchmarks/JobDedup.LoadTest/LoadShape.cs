namespace JobDedup.LoadTest;

/// <summary>How the requests of one run are sent.</summary>
internal enum LoadShape
{
    /// <summary>
    /// The original demo's shape: ten waves of 100 requests started one after another without waiting for any answer,
    /// so every request is in flight at once (its script waited only after the tenth wave).
    /// </summary>
    Waves,

    /// <summary>A closed loop: 100 workers, each sending its next request when its previous one is answered.</summary>
    Workers,
}
