namespace JobDedup;

/// <summary>Runs one job. Called once per flight attempt, never once per duplicate.</summary>
/// <typeparam name="TJob">The job type.</typeparam>
/// <typeparam name="TResult">The result every caller of the flight receives.</typeparam>
public interface IJobHandler<in TJob, TResult>
{
    /// <summary>Runs the job.</summary>
    /// <param name="job">The job of the flight's current leader.</param>
    /// <param name="context">The key, the attempt number and whether the leader changed.</param>
    /// <param name="cancellationToken">
    /// Fires when every caller has left (unless the deduplicator runs abandoned jobs to completion), when the attempt
    /// times out, or when the deduplicator shuts down.
    /// </param>
    /// <returns>The value shared with every caller of the flight.</returns>
    ValueTask<TResult> HandleAsync(TJob job, JobContext context, CancellationToken cancellationToken);
}
