namespace JobDedup.Flights;

/// <summary>
/// Whether a job flight may write its outcome into the dedupe window. <c>Forget</c> and the write race for this one
/// field, so a forgotten flight never starts a write, and a write already started is waited for before the removal.
/// </summary>
internal enum WindowWriteState
{
    /// <summary>Nothing written, not forgotten: a write may start.</summary>
    Open,

    /// <summary>A write started (it may still be in progress).</summary>
    Writing,

    /// <summary>Forgotten before any write: none will start.</summary>
    Forgotten,

    /// <summary>Forgotten while a write had started: the removal waits for the flight to give its key up.</summary>
    ForgottenWhileWriting,
}
