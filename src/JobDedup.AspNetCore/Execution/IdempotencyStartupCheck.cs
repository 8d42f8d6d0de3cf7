using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace JobDedup.AspNetCore.Execution;

/// <summary>
/// Builds the application's endpoints when the host starts, so that an idempotent endpoint whose options are wrong (or
/// whose option set is not registered) stops the start with a message naming the setting, rather than failing its
/// first request.
/// </summary>
internal sealed class IdempotencyStartupCheck(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetService<EndpointDataSource>()?.Endpoints;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
