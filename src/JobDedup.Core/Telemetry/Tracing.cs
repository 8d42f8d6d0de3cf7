using System.Diagnostics;
using JobDedup.Flights;

namespace JobDedup.Telemetry;

/// <summary>
/// The engine's spans. A run's span (<see cref="JobDedupTelemetry.HandleSpan"/>) is the child of its leading caller's
/// context and links to the callers that joined before it started; each joined caller gets a span of its own
/// (<see cref="JobDedupTelemetry.JoinSpan"/>) in its trace that links to the run that answered it. Nothing is captured
/// or allocated while no listener is attached to <see cref="Source"/>.
/// </summary>
internal static class Tracing
{
    public static readonly ActivitySource Source = new(JobDedupTelemetry.Name, Instruments.Version);

    /// <summary>Returns the caller's activity at enqueue time, when anyone listens to the engine's spans.</summary>
    public static Activity? CallerActivity() => Source.HasListeners() ? Activity.Current : null;

    /// <summary>
    /// Starts the span of one of a flight's handler attempts, the child of its leader's context and linked to every
    /// other caller waiting, and makes it current for the handler. The flight keeps it for the joined callers' spans.
    /// </summary>
    /// <param name="flight">The flight.</param>
    /// <param name="deduplicator">The deduplicator's name.</param>
    /// <param name="attempt">The attempt number.</param>
    public static Activity? StartRun<TJob, TResult>(JobFlight<TJob, TResult> flight, string deduplicator, int attempt)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        try
        {
            var parent = flight.Waiters.TraceContexts(out var links);
            var activity = StartHandle(parent, links, deduplicator, attempt);
            if (activity is not null)
            {
                flight.RunSpan = activity;
            }

            return activity;
        }
        catch (Exception)
        {
            // A throwing activity listener is its own bug; the attempt runs untraced.
            return null;
        }
    }

    /// <summary>Starts the span of one handler attempt and makes it current for the handler.</summary>
    /// <param name="parent">The leading caller's context; a root span when it has none.</param>
    /// <param name="links">The contexts of the other callers waiting for this run.</param>
    /// <param name="deduplicator">The deduplicator's name.</param>
    /// <param name="attempt">The attempt number.</param>
    public static Activity? StartHandle(ActivityContext parent, IEnumerable<ActivityLink>? links, string deduplicator, int attempt)
    {
        if (parent == default)
        {
            // A run with no leading trace is a root, never the child of whatever happens to be current.
            Activity.Current = null;
        }

        var activity = Source.StartActivity(JobDedupTelemetry.HandleSpan, ActivityKind.Internal, parent, tags: null, links: links);
        activity?.SetTag(JobDedupTelemetry.DeduplicatorTag, deduplicator);
        activity?.SetTag("jobdedup.attempt", attempt);
        return activity;
    }

    /// <summary>Starts a joined caller's span in its own trace, without making it current.</summary>
    /// <param name="caller">The caller's activity; no span when it has none.</param>
    /// <param name="deduplicator">The deduplicator's name.</param>
    public static Activity? StartJoin(Activity? caller, string deduplicator)
    {
        if (caller is null)
        {
            return null;
        }

        var previous = Activity.Current;
        try
        {
            var span = Source.CreateActivity(JobDedupTelemetry.JoinSpan, ActivityKind.Internal, caller.Context);
            span?.SetTag(JobDedupTelemetry.DeduplicatorTag, deduplicator);
            return span?.Start();
        }
        catch (Exception)
        {
            // A throwing activity listener is its own bug; the caller joins untraced.
            return null;
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    /// <summary>Ends a joined caller's span once it has its outcome, linking it to the run that answered it.</summary>
    /// <param name="span">The joined caller's span.</param>
    /// <param name="run">The span of the run whose outcome the caller got; none when no handler ran.</param>
    /// <param name="status">The outcome's status.</param>
    /// <param name="role">How the caller was answered.</param>
    public static void EndJoin(Activity span, Activity? run, JobStatus status, JobRole role)
    {
        if (run is not null)
        {
            span.AddLink(new ActivityLink(run.Context));
        }

        span.SetTag(JobDedupTelemetry.RoleTag, RoleName(role));
        span.SetTag(JobDedupTelemetry.StatusTag, Instruments.StatusName(status));
        if (status != JobStatus.Succeeded)
        {
            span.SetStatus(ActivityStatusCode.Error, Instruments.StatusName(status));
        }

        StopDetached(span);
    }

    /// <summary>Records, in the caller's trace, an answer replayed from the dedupe window.</summary>
    public static void Replayed(Activity caller)
    {
        var previous = Activity.Current;
        var span = Source.CreateActivity(JobDedupTelemetry.ReplaySpan, ActivityKind.Internal, caller.Context);
        if (span is null)
        {
            return;
        }

        span.SetTag(JobDedupTelemetry.RoleTag, "replayed");
        span.Start();
        span.Stop();
        Activity.Current = previous;
    }

    public static string RoleName(JobRole role) => role switch
    {
        JobRole.Leader => "leader",
        JobRole.Joined => "joined",
        JobRole.Replayed => "replayed",
        _ => "none",
    };

    /// <summary>Stops a span that may not be current here, leaving the current activity as it was.</summary>
    private static void StopDetached(Activity span)
    {
        var previous = Activity.Current;
        span.Stop();
        if (!ReferenceEquals(previous, span))
        {
            Activity.Current = previous;
        }
    }
}
