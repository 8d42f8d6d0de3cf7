namespace JobDedup.Flights;

/// <summary>A flight whose outcome <c>Forget</c> can stop from being written into the dedupe window.</summary>
internal interface IForgettable
{
    /// <summary>Marks the flight forgotten.</summary>
    /// <returns><see langword="true"/> when a window write had started: a removal must wait until the flight gives its key up.</returns>
    bool MarkForgotten();
}
