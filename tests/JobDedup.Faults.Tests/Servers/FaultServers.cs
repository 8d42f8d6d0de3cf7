namespace JobDedup.Faults.Tests.Servers;

/// <summary>
/// The private RabbitMQ node and PostgreSQL cluster every fault case runs against, started once for the suite and
/// stopped by pid at its end, also when a case failed. Processes an aborted earlier run left behind (recorded in the
/// suite's pid files) are ended first.
/// </summary>
public sealed class FaultServers : IAsyncLifetime
{
    private readonly FaultDirectory _faults = new();

    public FaultServers()
    {
        RabbitMq = new PrivateRabbitMq(_faults);
        Postgres = new PrivatePostgres(_faults);
    }

    internal PrivateRabbitMq RabbitMq { get; }

    internal PrivatePostgres Postgres { get; }

    internal FaultDirectory Directory => _faults;

    public async Task InitializeAsync()
    {
        await _faults.KillLeftoversAsync();
        File.Delete(Path.Combine(_faults.Root, "measurements.txt"));
        try
        {
            await Task.WhenAll(RabbitMq.StartAsync(), Postgres.StartAsync());
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        await Task.WhenAll(RabbitMq.StopAsync(), Postgres.StopAsync());
        await _faults.KillLeftoversAsync();
    }
}
