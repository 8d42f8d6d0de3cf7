namespace JobDedup.Core.Tests.Support;

/// <summary>
/// Lets the ForgetAsync tests compile before <c>IJobDeduplicator.ForgetAsync</c> exists: it calls Forget and returns
/// at once, which is exactly what those tests prove wrong. Once the deduplicator has its own ForgetAsync, the instance
/// method wins over this extension and this file is to be deleted.
/// </summary>
public static class ForgetAsyncShim
{
    public static ValueTask ForgetAsync<TJob, TResult>(this IJobDeduplicator<TJob, TResult> dedup, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dedup);
        cancellationToken.ThrowIfCancellationRequested();
        dedup.Forget(key);
        return ValueTask.CompletedTask;
    }
}
