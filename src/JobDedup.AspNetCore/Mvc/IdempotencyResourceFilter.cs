using JobDedup.AspNetCore.Execution;
using Microsoft.AspNetCore.Mvc.Filters;

namespace JobDedup.AspNetCore.Mvc;

/// <summary>
/// The filter behind <see cref="IdempotentAttribute"/>: as a resource filter it runs before model binding (so the
/// body can be fingerprinted) and around the action and its result (so the whole response is held back and kept).
/// </summary>
internal sealed class IdempotencyResourceFilter(IdempotentAttribute attribute, IdempotentEndpoint endpoint) : IAsyncResourceFilter
{
    public async Task OnResourceExecutionAsync(ResourceExecutingContext context, ResourceExecutionDelegate next)
    {
        // With the attribute on the controller and on the action, only the closest one (the action's) applies.
        var closest = context.ActionDescriptor.FilterDescriptors.Where(d => d.Filter is IdempotentAttribute).MaxBy(d => d.Scope)?.Filter;
        if (closest is not null && !ReferenceEquals(closest, attribute))
        {
            await next().ConfigureAwait(false);
            return;
        }

        await endpoint.ExecuteAsync(context.HttpContext, async () =>
        {
            var executed = await next().ConfigureAwait(false);
            if (executed.ExceptionDispatchInfo is { } failure && !executed.ExceptionHandled)
            {
                // The action failed: the failure leaves through the engine (nothing kept), then to the pipeline.
                executed.ExceptionHandled = true;
                failure.Throw();
            }
            else if (executed.Exception is { } exception && !executed.ExceptionHandled)
            {
                executed.ExceptionHandled = true;
                throw exception;
            }
        }).ConfigureAwait(false);
    }
}
