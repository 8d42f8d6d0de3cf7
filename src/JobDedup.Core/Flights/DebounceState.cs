namespace JobDedup.Flights;

/// <summary>Where a flight's debounced start is. It moves forward only: Waiting → Elapsed, or Waiting → Stopped.</summary>
internal enum DebounceState
{
    /// <summary>The key is not quiet yet: each arrival pushes the start back, up to the maximum wait.</summary>
    Waiting,

    /// <summary>The key was quiet for the delay, or the maximum wait was reached: the flight goes on to its run.</summary>
    Elapsed,

    /// <summary>The flight ended before its start (every caller left, or shutdown): the timer is gone.</summary>
    Stopped,
}
