namespace JobDedup.RabbitMq.Tests.Support;

/// <summary>Holds handlers until the test opens it.</summary>
public sealed class Gate
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task WaitAsync(CancellationToken cancellationToken = default) => _open.Task.WaitAsync(cancellationToken);

    public void Open() => _open.TrySetResult();
}
