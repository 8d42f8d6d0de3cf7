using System.Diagnostics.CodeAnalysis;

namespace JobDedup.Running;

/// <summary>
/// The cap on handlers running at once. A slot is taken before a handler starts and given back only once that
/// handler has really ended, so a handler left behind after its timeout still counts.
/// </summary>
[SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "No wait handle is ever taken, so the semaphore holds nothing to free.")]
internal sealed class HandlerSlots(int capacity)
{
    private readonly SemaphoreSlim _slots = new(capacity, capacity);

    public Task WaitAsync(CancellationToken cancellationToken) => _slots.WaitAsync(cancellationToken);

    public void Release() => _slots.Release();
}
