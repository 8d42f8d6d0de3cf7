using Microsoft.Extensions.Hosting;

namespace JobDedup.PostgreSql.DependencyInjection;

/// <summary>Creates a deduplicator's partition lease tables when the host starts, so that a database that cannot be reached fails the start.</summary>
internal sealed class PostgreSqlPartitionLeasePreparation(string name, PostgreSqlPartitionLeaseStore store) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await store.PrepareAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException(
                $"Deduplicator '{name}' could not prepare its PostgreSQL partition leases ({store.Tables}) on {store.Server}: {ex.Message} " +
                "Check that the server is running and that the connection string (host, port, database, credentials) is right.",
                ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
