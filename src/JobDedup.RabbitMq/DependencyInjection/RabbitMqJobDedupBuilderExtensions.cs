using JobDedup.RabbitMq;
using JobDedup.RabbitMq.Consuming;
using JobDedup.RabbitMq.Health;
using JobDedup.RabbitMq.Publishing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace JobDedup;

/// <summary>Adds the RabbitMQ transport to deduplicators registered with <c>AddJobDedup</c>.</summary>
public static class RabbitMqJobDedupBuilderExtensions
{
    /// <summary>
    /// Feeds the deduplicator from a RabbitMQ queue with a hosted consumer, and adds a health check named
    /// <c>rabbitmq-{name}</c>. The options are checked when the host starts.
    /// </summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <typeparam name="TResult">The handler's result type.</typeparam>
    /// <param name="builder">The deduplicator's builder.</param>
    /// <param name="configure">Sets the consumer's options.</param>
    /// <returns>The builder.</returns>
    public static JobDedupBuilder<TJob, TResult> AddRabbitMqConsumer<TJob, TResult>(
        this JobDedupBuilder<TJob, TResult> builder,
        Action<RabbitMqConsumerOptions<TJob, TResult>> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return builder.AddRabbitMqConsumer((_, options) => configure(options));
    }

    /// <summary>
    /// Feeds the deduplicator from a RabbitMQ queue, like <see cref="AddRabbitMqConsumer{TJob, TResult}(JobDedupBuilder{TJob, TResult}, Action{RabbitMqConsumerOptions{TJob, TResult}})"/>,
    /// with options set from services of the container (its configuration, a connection string it holds). The
    /// options are named by the deduplicator's name, so
    /// <c>Services.AddOptions&lt;RabbitMqConsumerOptions&lt;TJob, TResult&gt;&gt;(name).BindConfiguration("Section")</c>
    /// binds them from configuration as well.
    /// </summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <typeparam name="TResult">The handler's result type.</typeparam>
    /// <param name="builder">The deduplicator's builder.</param>
    /// <param name="configure">Sets the consumer's options, given the service provider.</param>
    /// <returns>The builder.</returns>
    public static JobDedupBuilder<TJob, TResult> AddRabbitMqConsumer<TJob, TResult>(
        this JobDedupBuilder<TJob, TResult> builder,
        Action<IServiceProvider, RabbitMqConsumerOptions<TJob, TResult>> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var name = builder.Name;
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(RabbitMqConsumer<TJob, TResult>) && Equals(d.ServiceKey, name)))
        {
            throw new InvalidOperationException(
                $"Deduplicator '{name}' already has a RabbitMQ consumer. Each deduplicator consumes one queue; " +
                "register another deduplicator (AddJobDedup with its own name) for another queue.");
        }

        services.AddOptions<RabbitMqConsumerOptions<TJob, TResult>>(name)
            .Configure<IServiceProvider>((options, provider) => configure(provider, options))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RabbitMqConsumerOptions<TJob, TResult>>, ConsumerOptionsValidator<TJob, TResult>>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddKeyedSingleton(name, static (sp, key) =>
        {
            var name = (string)key!;
            return new RabbitMqConsumer<TJob, TResult>(
                name,
                sp.GetRequiredService<IOptionsMonitor<RabbitMqConsumerOptions<TJob, TResult>>>().Get(name),
                sp.GetRequiredKeyedService<IJobDeduplicator<TJob, TResult>>(name),
                sp.GetService<ILoggerFactory>()?.CreateLogger("JobDedup.RabbitMq.Consumer") ?? NullLogger.Instance,
                sp.GetRequiredService<TimeProvider>());
        });

        // A factory registration, so that several consumers of the same job and result types can run side by side.
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredKeyedService<RabbitMqConsumer<TJob, TResult>>(name));
        services.AddHealthChecks().Add(new HealthCheckRegistration(
            $"rabbitmq-{name}",
            sp => new RabbitMqConsumerHealthCheck<TJob, TResult>(sp.GetRequiredKeyedService<RabbitMqConsumer<TJob, TResult>>(name)),
            failureStatus: null,
            tags: ["jobdedup", "rabbitmq"]));
        return builder;
    }

    /// <summary>Registers an <see cref="IJobPublisher"/> that publishes with confirms.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the publisher's options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddJobPublisher(this IServiceCollection services, Action<RabbitMqPublisherOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<RabbitMqPublisherOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RabbitMqPublisherOptions>, PublisherOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PublisherConnector>());
        services.TryAddSingleton(sp => new RabbitMqJobPublisher(
            sp.GetRequiredService<IOptions<RabbitMqPublisherOptions>>().Value,
            sp.GetService<ILogger<RabbitMqJobPublisher>>()));
        services.TryAddSingleton<IJobPublisher>(sp => sp.GetRequiredService<RabbitMqJobPublisher>());
        return services;
    }

    private sealed class PublisherOptionsValidator : IValidateOptions<RabbitMqPublisherOptions>
    {
        public ValidateOptionsResult Validate(string? name, RabbitMqPublisherOptions options)
        {
            var errors = options.Validate();
            return errors.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(errors.Select(e => $"RabbitMQ publisher: {e}"));
        }
    }

    private sealed class ConsumerOptionsValidator<TJob, TResult> : IValidateOptions<RabbitMqConsumerOptions<TJob, TResult>>
    {
        public ValidateOptionsResult Validate(string? name, RabbitMqConsumerOptions<TJob, TResult> options)
        {
            var errors = options.Validate();
            return errors.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(errors.Select(e => $"RabbitMQ consumer '{name}': {e}"));
        }
    }
}
