using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;

namespace JobDedup.Concurrency.Controlled;

/// <summary>The reading side of a <see cref="ControlledChannel{T}"/>.</summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class ControlledChannelReader<T>(ControlledChannel<T> channel) : ChannelReader<T>
{
    public override Task Completion => channel.Completion;

    public override bool CanCount => true;

    public override int Count => channel.Count;

    public override bool TryRead([MaybeNullWhen(false)] out T item) => channel.TryRead(out item);

    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => channel.WaitToReadAsync(cancellationToken);
}
