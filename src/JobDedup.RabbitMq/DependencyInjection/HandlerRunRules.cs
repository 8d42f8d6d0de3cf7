using Microsoft.Extensions.Options;

namespace JobDedup.RabbitMq.DependencyInjection;

/// <summary>
/// What a consumer asks of its deduplicator's options: one classification of failures (the consumer's obsolete
/// IsPermanentFailure moved over), and a bound on the handler runs one message may cause.
/// </summary>
internal static class HandlerRunRules
{
#pragma warning disable CS0618 // The obsolete consumer setting is read only to move it to the deduplicator.
    /// <summary>Moves the consumer's obsolete IsPermanentFailure to the deduplicator, when the deduplicator has none.</summary>
    public static void MovePermanentFailure<TJob, TResult>(JobDedupOptions<TJob> engine, RabbitMqConsumerOptions<TJob, TResult> consumer)
    {
        if (consumer.IsPermanentFailure is { } legacy && engine.IsPermanentFailure is null)
        {
            engine.IsPermanentFailure = legacy;
        }
    }

    /// <summary>Lists what is wrong with the deduplicator's options as seen by its consumer.</summary>
    public static IReadOnlyList<string> Validate<TJob, TResult>(JobDedupOptions<TJob> engine, RabbitMqConsumerOptions<TJob, TResult> consumer)
    {
        var errors = new List<string>();
        if (consumer.IsPermanentFailure is { } legacy && !ReferenceEquals(engine.IsPermanentFailure, legacy))
        {
            errors.Add(
                "IsPermanentFailure is set both on the deduplicator and on its RabbitMQ consumer (obsolete there). " +
                "Keep only the deduplicator's: it serves the in-process retries and the consumer alike.");
        }

        // A custom pipeline decides its own attempts, which cannot be read here.
        if (engine.ResiliencePipeline is null)
        {
            var attempts = engine.MaxRetryAttempts + 1;
            var runs = (long)attempts * consumer.MaxDeliveryAttempts;
            if (runs > consumer.MaxHandlerRunsPerMessage)
            {
                errors.Add(
                    $"A failing message could run the handler {runs} times: the consumer's MaxDeliveryAttempts ({consumer.MaxDeliveryAttempts}) " +
                    $"times {attempts} attempts per delivery (MaxRetryAttempts {engine.MaxRetryAttempts} + 1), over the consumer's " +
                    $"MaxHandlerRunsPerMessage ({consumer.MaxHandlerRunsPerMessage}). Lower MaxDeliveryAttempts or MaxRetryAttempts, or raise MaxHandlerRunsPerMessage.");
            }
        }

        return errors;
    }
#pragma warning restore CS0618

    /// <summary>Checks, at start, the options of the deduplicator a consumer named <c>name</c> feeds.</summary>
    internal sealed class Validator<TJob, TResult>(string name, IOptionsMonitor<RabbitMqConsumerOptions<TJob, TResult>> consumers)
        : IValidateOptions<JobDedupOptions<TJob>>
    {
        public ValidateOptionsResult Validate(string? optionsName, JobDedupOptions<TJob> options)
        {
            if (!string.Equals(optionsName, name, StringComparison.Ordinal))
            {
                return ValidateOptionsResult.Skip;
            }

            var errors = HandlerRunRules.Validate(options, consumers.Get(name));
            return errors.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(errors.Select(e => $"JobDedup '{name}' with its RabbitMQ consumer: {e}"));
        }
    }
}
