using System.Threading.Channels;

namespace JobDedup.Concurrency.Controlled;

/// <summary>The writing side of a <see cref="ControlledChannel{T}"/>.</summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class ControlledChannelWriter<T>(ControlledChannel<T> channel) : ChannelWriter<T>
{
    public override bool TryComplete(Exception? error = null) => channel.TryComplete();

    public override bool TryWrite(T item) => channel.TryWrite(item);

    public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) => channel.WaitToWriteAsync(cancellationToken);

    public override async ValueTask WriteAsync(T item, CancellationToken cancellationToken = default)
    {
        while (await channel.WaitToWriteAsync(cancellationToken).ConfigureAwait(false))
        {
            if (channel.TryWrite(item))
            {
                return;
            }
        }

        throw new ChannelClosedException();
    }
}
