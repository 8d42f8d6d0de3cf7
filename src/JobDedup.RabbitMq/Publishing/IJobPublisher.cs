namespace JobDedup.RabbitMq;

/// <summary>
/// Publishes jobs to RabbitMQ for a JobDedup consumer elsewhere, with the dedupe key in the
/// <see cref="JobDedupHeaders.Key"/> header. A publish completes only once the broker has confirmed it.
/// </summary>
public interface IJobPublisher
{
    /// <summary>Publishes a job serialized as JSON (a job that is <c>byte[]</c> or memory of bytes is sent as the body, unchanged).</summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <param name="key">The dedupe key.</param>
    /// <param name="job">The job.</param>
    /// <param name="properties">Message properties; the defaults when omitted.</param>
    /// <param name="cancellationToken">Cancels waiting for the confirm (the message may still arrive).</param>
    /// <returns>A task that completes when the broker confirmed the message.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is null or empty.</exception>
    /// <exception cref="JobPublishException">The broker refused the message or could not route it.</exception>
    Task PublishAsync<TJob>(string key, TJob job, JobPublishProperties? properties = null, CancellationToken cancellationToken = default);

    /// <summary>Publishes a body as it is.</summary>
    /// <param name="key">The dedupe key.</param>
    /// <param name="body">The body.</param>
    /// <param name="properties">Message properties; the defaults when omitted.</param>
    /// <param name="cancellationToken">Cancels waiting for the confirm (the message may still arrive).</param>
    /// <returns>A task that completes when the broker confirmed the message.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is null or empty.</exception>
    /// <exception cref="JobPublishException">The broker refused the message or could not route it.</exception>
    Task PublishAsync(string key, ReadOnlyMemory<byte> body, JobPublishProperties? properties = null, CancellationToken cancellationToken = default);
}
