namespace JobDedup.Benchmarks.Load;

/// <summary>A job that carries the task its producer waits on, for a channel that answers every job.</summary>
public sealed class ReplyItem(JobItem job) : TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public JobItem Job { get; } = job;
}
