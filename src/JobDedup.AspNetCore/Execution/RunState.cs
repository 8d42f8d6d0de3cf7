namespace JobDedup.AspNetCore.Execution;

/// <summary>
/// The lifecycle of one request's endpoint run inside the engine: Pending → Running → Ran when the engine runs this
/// request's job, or Pending → Withdrawn when the request left (its client disconnected) before its turn came. A
/// withdrawn job is never run: its HttpContext is gone.
/// </summary>
internal enum RunState
{
    /// <summary>The job waits in the engine; neither run nor withdrawn.</summary>
    Pending,

    /// <summary>The engine runs this request's endpoint in the request's own HttpContext.</summary>
    Running,

    /// <summary>The endpoint ran to its end (a response or an exception).</summary>
    Ran,

    /// <summary>The request stopped waiting before its endpoint started; the job must not run.</summary>
    Withdrawn,
}
