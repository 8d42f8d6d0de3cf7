using JobDedup.RabbitMq.Connections;
using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Publishing;

/// <summary>
/// A connection of its own and one channel with publisher confirms, for publishing only (RabbitMQ advises keeping
/// publishing off the consuming connection). A channel the broker closed (for example after a publish to a missing
/// exchange) is opened again on the next publish; the connection recovers by itself. On a connection the application
/// lent (<see cref="ConnectionSource.OwnsConnections"/> false) the channel is ours and closed here, the connection is not.
/// </summary>
internal sealed class ConfirmedChannel(ConnectionSource source) : IAsyncDisposable
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _lock = new(1, 1);
    private IConnection? _connection;
    private IChannel? _channel;

    /// <summary>Gets a value indicating whether the connection is open (a closed channel is reopened on demand).</summary>
    public bool IsOpen => _connection?.IsOpen == true;

    /// <summary>Opens the connection and the channel now, so that an unreachable broker is reported at once.</summary>
    public async Task OpenAsync(CancellationToken cancellationToken) => await GetChannelAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Publishes and waits for the broker's confirm.</summary>
    /// <exception cref="RabbitMQ.Client.Exceptions.PublishException">The broker refused or could not route the message.</exception>
    public async Task PublishAsync(string exchange, string routingKey, bool mandatory, BasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var channel = await GetChannelAsync(cancellationToken).ConfigureAwait(false);
        await channel.BasicPublishAsync(exchange, routingKey, mandatory, properties, body, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_channel is not null)
            {
                await CloseQuietlyAsync(_channel).ConfigureAwait(false);
                _channel = null;
            }

            if (_connection is not null)
            {
                await source.ReleaseAsync(_connection, CloseTimeout, static _ => { }).ConfigureAwait(false);
                _connection = null;
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    private async ValueTask<IChannel> GetChannelAsync(CancellationToken cancellationToken)
    {
        if (_channel is { IsOpen: true } open)
        {
            return open;
        }

        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_channel is { IsOpen: true } reopened)
            {
                return reopened;
            }

            _connection ??= await source.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (_channel is not null)
            {
                await _channel.DisposeAsync().ConfigureAwait(false);
                _channel = null;
            }

            _channel = await _connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
                cancellationToken).ConfigureAwait(false);
            return _channel;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Closes a channel and disposes it; one the broker or a lost connection closed already is only disposed.</summary>
    private static async Task CloseQuietlyAsync(IChannel channel)
    {
        try
        {
            if (channel.IsOpen)
            {
                using var timeout = new CancellationTokenSource(CloseTimeout);
                await channel.CloseAsync(timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Closing is best effort: the broker drops the channel with the connection anyway.
        }

        await channel.DisposeAsync().ConfigureAwait(false);
    }
}
