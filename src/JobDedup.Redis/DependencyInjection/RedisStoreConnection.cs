using Microsoft.Extensions.Hosting;

namespace JobDedup.Redis.DependencyInjection;

/// <summary>Connects a deduplicator's Redis outcome store when the host starts, so that a server that cannot be reached fails the start.</summary>
internal sealed class RedisStoreConnection<TResult>(string name, RedisOutcomeStore<TResult> store) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await store.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException(
                $"Deduplicator '{name}' could not reach its Redis outcome store {store.Prefix} on {store.Server}: {ex.Message} " +
                "Check that the server is running and that the configuration string (host, port, password) is right.",
                ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
