using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace JobDedup.DependencyInjection;

/// <summary>Checks a deduplicator's options and that it has a handler, when the host starts.</summary>
internal sealed class JobDedupOptionsValidator<TJob, TResult>(IServiceProvider services) : IValidateOptions<JobDedupOptions<TJob>>
{
    public ValidateOptionsResult Validate(string? name, JobDedupOptions<TJob> options)
    {
        var registration = services.GetKeyedService<JobDedupRegistration<TJob, TResult>>(name ?? Options.DefaultName);
        if (registration is null)
        {
            return ValidateOptionsResult.Skip;
        }

        var errors = new List<string>(options.Validate());
        if (registration.HandlerFactory is null)
        {
            errors.Add(JobDedupRegistration<TJob, TResult>.NoHandlerMessage(registration.Name));
        }

        return errors.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(errors.Select(e => $"JobDedup '{registration.Name}': {e}"));
    }
}
