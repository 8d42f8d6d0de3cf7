namespace JobDedup.Testing;

/// <summary>A consumer's handler that counts its runs, then answers or fails the same way each time.</summary>
public sealed class CountingHandler
{
    private int _runs;

    /// <summary>Gets how many times the handler ran.</summary>
    public int Runs => Volatile.Read(ref _runs);

    /// <summary>A handler that answers <paramref name="result"/>.</summary>
    public Func<RabbitMqMessage, JobContext, CancellationToken, ValueTask<string>> Answering(string result) =>
        (_, _, _) =>
        {
            Interlocked.Increment(ref _runs);
            return ValueTask.FromResult(result);
        };

    /// <summary>A handler that throws a new failure made by <paramref name="failure"/>.</summary>
    public Func<RabbitMqMessage, JobContext, CancellationToken, ValueTask<string>> Failing(Func<Exception> failure) =>
        (_, _, _) =>
        {
            Interlocked.Increment(ref _runs);
            throw failure();
        };
}
