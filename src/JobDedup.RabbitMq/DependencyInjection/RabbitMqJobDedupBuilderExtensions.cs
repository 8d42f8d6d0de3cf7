using JobDedup;
using JobDedup.Partitions;
using JobDedup.RabbitMq;
using JobDedup.RabbitMq.Consuming;
using JobDedup.RabbitMq.DependencyInjection;
using JobDedup.RabbitMq.Health;
using JobDedup.RabbitMq.Publishing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the RabbitMQ transport to deduplicators registered with <c>AddJobDedup</c>.</summary>
public static class RabbitMqJobDedupBuilderExtensions
{
    /// <summary>
    /// Feeds the deduplicator from a RabbitMQ queue with a hosted consumer, and adds a health check named
    /// <c>rabbitmq-{name}</c>. The options are checked when the host starts. On a partitioned queue
    /// (<see cref="RabbitMqConsumerOptions{TJob, TResult}.Partitions"/>), an <see cref="IPartitionLeaseStore"/> registered
    /// under the deduplicator's name (for example by <c>UsePostgreSqlPartitionLeases</c>) decides which partitions this
    /// instance consumes; without one, it subscribes to every partition and the broker makes one instance active on each.
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
            .PostConfigure<IOptions<RabbitMqConnectionOptions>>(static (options, shared) => options.InheritFrom(shared.Value))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RabbitMqConsumerOptions<TJob, TResult>>, ConsumerOptionsValidator<TJob, TResult>>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<JobDedupOptions<TJob>>(name)
            .PostConfigure<IOptionsMonitor<RabbitMqConsumerOptions<TJob, TResult>>>((engine, consumers) => HandlerRunRules.MovePermanentFailure(engine, consumers.Get(name)));
        services.AddSingleton<IValidateOptions<JobDedupOptions<TJob>>>(sp =>
            new HandlerRunRules.Validator<TJob, TResult>(name, sp.GetRequiredService<IOptionsMonitor<RabbitMqConsumerOptions<TJob, TResult>>>()));
        services.AddKeyedSingleton(name, static (sp, key) =>
        {
            var name = (string)key!;
            var engine = sp.GetRequiredService<IOptionsMonitor<JobDedupOptions<TJob>>>().Get(name);
            return new RabbitMqConsumer<TJob, TResult>(
                name,
                sp.GetRequiredService<IOptionsMonitor<RabbitMqConsumerOptions<TJob, TResult>>>().Get(name),
                sp.GetRequiredKeyedService<IJobDeduplicator<TJob, TResult>>(name),
                new KeyPolicy(engine.MaxKeyBytes),
                engine.IsPermanentFailure,
                sp.GetService<ILoggerFactory>()?.CreateLogger("JobDedup.RabbitMq.Consumer") ?? NullLogger.Instance,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetKeyedService<IPartitionLeaseStore>(name),
                sp);
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

    /// <summary>
    /// Sets the broker every RabbitMQ consumer (<c>AddRabbitMqConsumer</c>) and publisher (<see cref="AddJobPublisher"/>)
    /// of the container connects to, unless its own options say otherwise: the address, the connection name, the
    /// recovery interval, or a connection or connection factory from the container
    /// (<see cref="RabbitMqConnectionOptions.UseConnection()"/>, <see cref="RabbitMqConnectionOptions.UseConnectionFactory()"/>).
    /// A consumer or publisher that sets its own <see cref="RabbitMqConnectionOptions.ConnectionUri"/> uses that address
    /// and no shared connection. Checked when the host starts. Bind it from configuration with
    /// <c>services.AddOptions&lt;RabbitMqConnectionOptions&gt;().BindConfiguration("Section")</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the shared broker settings.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddJobDedupRabbitMq(this IServiceCollection services, Action<RabbitMqConnectionOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<RabbitMqConnectionOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RabbitMqConnectionOptions>, SharedOptionsValidator>());
        return services;
    }

    /// <summary>Registers an <see cref="IJobPublisher"/> that publishes with confirms.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the publisher's options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddJobPublisher(this IServiceCollection services, Action<RabbitMqPublisherOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<RabbitMqPublisherOptions>()
            .Configure(configure)
            .PostConfigure<IOptions<RabbitMqConnectionOptions>>(static (options, shared) => options.InheritFrom(shared.Value))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RabbitMqPublisherOptions>, PublisherOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PublisherConnector>());
        services.TryAddSingleton(sp => new RabbitMqJobPublisher(
            sp.GetRequiredService<IOptions<RabbitMqPublisherOptions>>().Value,
            sp,
            sp.GetService<ILogger<RabbitMqJobPublisher>>()));
        services.TryAddSingleton<IJobPublisher>(sp => sp.GetRequiredService<RabbitMqJobPublisher>());
        return services;
    }

    private sealed class SharedOptionsValidator : IValidateOptions<RabbitMqConnectionOptions>
    {
        public ValidateOptionsResult Validate(string? name, RabbitMqConnectionOptions options)
        {
            var errors = new List<string>();
            options.ValidateConnection(errors);
            return errors.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(errors.Select(e => $"RabbitMQ broker (AddJobDedupRabbitMq): {e}"));
        }
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
