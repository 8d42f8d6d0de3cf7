using JobDedup.RabbitMq;
using JobDedup.Worker.Handlers;
using JobDedup.Worker.Http;
using JobDedup.Worker.Settings;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace JobDedup.Worker.Pipelines;

/// <summary>
/// Turns the worker's settings into deduplicators fed by RabbitMQ consumers. Every bad setting is reported before
/// anything starts, by its configuration path.
/// </summary>
internal static class WorkerPipelines
{
    /// <summary>Lists every setting of the <c>JobDedup</c> section that cannot be read, by its path: unknown names, values of the wrong kind.</summary>
    public static List<string> CheckReadable(IConfiguration configuration) =>
        SettingsCheck.Problems(configuration.GetSection(WorkerSettings.Section), typeof(WorkerSettings));

    /// <summary>Reads the <c>JobDedup</c> section; an unknown key or a value of the wrong type is an error.</summary>
    /// <exception cref="InvalidOperationException">A setting is unknown or cannot be read.</exception>
    public static WorkerSettings Read(IConfiguration configuration)
    {
        var settings = new WorkerSettings();
        configuration.GetSection(WorkerSettings.Section).Bind(settings, o => o.ErrorOnUnknownConfiguration = true);
        return settings;
    }

    /// <summary>Lists every problem with the settings, each starting with the setting's path.</summary>
    public static List<string> Validate(WorkerSettings settings)
    {
        var problems = new List<string>();
        if (settings.Pipelines.Count == 0)
        {
            problems.Add($"{WorkerSettings.Section}:Pipelines has no pipeline. Add one, e.g. {WorkerSettings.Section}__Pipelines__payments__Queue=payments (see docs/worker.md).");
        }

        if (settings.ShutdownTimeout < TimeSpan.Zero)
        {
            problems.Add($"{WorkerSettings.Section}:ShutdownTimeout must not be negative.");
        }

        foreach (var (name, pipeline) in settings.Pipelines)
        {
            var path = $"{WorkerSettings.Section}:Pipelines:{name}";
            foreach (var problem in Dedup(name, pipeline).Validate())
            {
                problems.Add($"{path}:{problem}");
            }

            foreach (var problem in Consumer(name, pipeline, settings.RabbitMq).Validate())
            {
                problems.Add(problem.StartsWith(nameof(RabbitMqConnectionOptions.ConnectionUri), StringComparison.Ordinal)
                    ? $"{WorkerSettings.Section}:RabbitMq:Uri{problem[nameof(RabbitMqConnectionOptions.ConnectionUri).Length..]}"
                    : $"{path}:{problem}");
            }

            if (pipeline.PostgreSql is not null && pipeline.DedupeWindow <= TimeSpan.Zero)
            {
                problems.Add($"{path}:PostgreSql needs a DedupeWindow: the database keeps outcomes for that long.");
            }

            if (pipeline.PostgreSql is { } connectionString && !IsConnectionString(connectionString))
            {
                problems.Add($"{path}:PostgreSql must be a PostgreSQL connection string such as Host=127.0.0.1;Username=...;Database=....");
            }

            if (pipeline.Redis is not null && pipeline.DedupeWindow <= TimeSpan.Zero)
            {
                problems.Add($"{path}:Redis needs a DedupeWindow: Redis keeps outcomes for that long.");
            }

            if (pipeline.Redis is { } configuration && !IsRedisConfiguration(configuration))
            {
                problems.Add($"{path}:Redis must be a Redis configuration string such as 127.0.0.1:6379.");
            }

            if (pipeline.Redis is not null && pipeline.PostgreSql is not null)
            {
                problems.Add($"{path}:Redis and {path}:PostgreSql are both set; keep the dedupe window in one of them.");
            }

            var runs = ((long)pipeline.MaxRetryAttempts + 1) * pipeline.MaxDeliveryAttempts;
            if (pipeline.MaxRetryAttempts >= 0 && pipeline.MaxDeliveryAttempts > 0 && runs > pipeline.MaxHandlerRunsPerMessage)
            {
                problems.Add(
                    $"{path}: a failing message could run its handler {runs} times ((MaxRetryAttempts {pipeline.MaxRetryAttempts} + 1) × " +
                    $"MaxDeliveryAttempts {pipeline.MaxDeliveryAttempts}), over MaxHandlerRunsPerMessage ({pipeline.MaxHandlerRunsPerMessage}). " +
                    $"Lower {path}:MaxRetryAttempts or {path}:MaxDeliveryAttempts, or raise {path}:MaxHandlerRunsPerMessage.");
            }

            ValidatePartitionLeases(problems, path, pipeline);
            ValidateDuplicatePolicy(problems, path, pipeline);

            ValidateKey(problems, path, pipeline.Key);
            ValidateHandler(problems, path, pipeline.Handler, pipeline.AttemptTimeout);
        }

        HttpSettingsValidation.Validate(settings, problems);
        return problems;
    }

    /// <summary>Registers every pipeline: a deduplicator named after it, its handler, and its consumer.</summary>
    public static void Register(IServiceCollection services, WorkerSettings settings)
    {
        // One broker for every pipeline: the consumers take JobDedup:RabbitMq:Uri from the shared broker settings.
        services.AddJobDedupRabbitMq(o => o.ConnectionUri = settings.RabbitMq.Uri);
        foreach (var (name, pipeline) in settings.Pipelines)
        {
            var dedup = Dedup(name, pipeline);
            var consumer = Consumer(name, pipeline, settings.RabbitMq);
            if (pipeline.Handler.Type == HandlerType.Http)
            {
                HttpForwarding.AddClient(services, name, pipeline);
            }

            var builder = services.AddJobDedup<RabbitMqMessage, byte[]>(name, o => Copy(dedup, o))
                .UseHandler(sp => Handler(sp, name, pipeline, settings.RabbitMq));
            if (pipeline.PostgreSql is { } connectionString)
            {
                builder.UsePostgreSqlOutcomeStore(connectionString);
            }
            else if (pipeline.Redis is { } configuration)
            {
                builder.UseRedisOutcomeStore(configuration);
            }

            if (pipeline.PartitionLeaseConnection is { } leaseConnection)
            {
                builder.UsePostgreSqlPartitionLeases(leaseConnection, o => Copy(pipeline.PartitionLeases, o));
            }

            builder.AddRabbitMqConsumer(o => Copy(consumer, o));
        }
    }

    private static JobDedupOptions<RabbitMqMessage> Dedup(string name, PipelineSettings pipeline) => new()
    {
        Name = name,
        // An HTTP handler retries its requests in the client's resilience handler (which honours Retry-After).
        MaxRetryAttempts = pipeline.Handler.Type == HandlerType.Http ? 0 : pipeline.MaxRetryAttempts,
        RetryDelay = pipeline.RetryDelay,
        RetryMaxDelay = TimeSpan.FromSeconds(Math.Max(30, pipeline.RetryDelay.TotalSeconds)),
        AttemptTimeout = pipeline.AttemptTimeout,
        DedupeWindow = pipeline.DedupeWindow,
        Fingerprint = FingerprintOf(pipeline.Fingerprint),
        ClaimLease = pipeline.ClaimLease,
        ClaimRenewInterval = pipeline.ClaimRenewInterval,
        StoreFailureRatio = pipeline.StoreFailureRatio,
        StoreMinimumThroughput = pipeline.StoreMinimumThroughput,
        StoreSamplingDuration = pipeline.StoreSamplingDuration,
        StoreBreakDuration = pipeline.StoreBreakDuration,
        MaxConcurrentHandlers = pipeline.MaxConcurrentHandlers,
        QueueCapacity = Math.Max(1024, pipeline.Prefetch * 2),

        // With a shared store, a delivery whose key another worker runs is parked rather than held.
        WhenKeyBusy = pipeline.HasSharedStore ? BusyKeyMode.Reject : BusyKeyMode.Wait,
        OnDuplicate = DuplicatePolicyOf(pipeline),
    };

    /// <summary>How a pipeline's messages are fingerprinted: by their body's bytes, by their body as canonical JSON, or not at all.</summary>
    internal static Func<RabbitMqMessage, string>? FingerprintOf(PayloadFingerprint fingerprint) => fingerprint switch
    {
        PayloadFingerprint.Body => static message => JobFingerprint.FromBytes(message.Body.Span),
        PayloadFingerprint.Json => static message => JobFingerprint.FromJson(message.Body.Span),
        _ => null,
    };

    /// <summary>The pipeline's duplicate policy; <c>Join</c> while its settings are invalid (they are reported by path).</summary>
    private static DuplicatePolicy DuplicatePolicyOf(PipelineSettings pipeline) => pipeline.OnDuplicate switch
    {
        DuplicatePolicyKind.Reject => DuplicatePolicy.Reject,
        DuplicatePolicyKind.Replace => DuplicatePolicy.Replace,
        DuplicatePolicyKind.KeepLatest => DuplicatePolicy.KeepLatest,
        DuplicatePolicyKind.Debounce when DebounceProblem(pipeline) is null =>
            DuplicatePolicy.Debounce(pipeline.DebounceDelay!.Value, pipeline.DebounceMaxWait!.Value),
        _ => DuplicatePolicy.Join,
    };

    /// <summary>Says what is wrong with the debounce settings of a pipeline that debounces, or null.</summary>
    private static string? DebounceProblem(PipelineSettings pipeline) => (pipeline.DebounceDelay, pipeline.DebounceMaxWait) switch
    {
        (null, _) => "DebounceDelay must be set when OnDuplicate is Debounce (how long the key must be quiet, e.g. 00:00:05).",
        (var delay, _) when delay <= TimeSpan.Zero => $"DebounceDelay must be greater than zero, not {delay}.",
        (_, null) => "DebounceMaxWait must be set when OnDuplicate is Debounce (the longest wait after the first message, e.g. 00:01:00).",
        (var delay, var maxWait) when maxWait < delay || maxWait > TimeSpan.FromDays(1) =>
            $"DebounceMaxWait must be at least DebounceDelay ({delay}) and at most 1 day, not {maxWait}.",
        _ => null,
    };

    private static void ValidateDuplicatePolicy(List<string> problems, string path, PipelineSettings pipeline)
    {
        if (pipeline.OnDuplicate == DuplicatePolicyKind.Debounce)
        {
            if (DebounceProblem(pipeline) is { } problem)
            {
                problems.Add($"{path}:{problem}");
            }

            return;
        }

        if (!Enum.IsDefined(pipeline.OnDuplicate) || pipeline.OnDuplicate == DuplicatePolicyKind.Throttle)
        {
            problems.Add($"{path}:OnDuplicate must be Join, Reject, Replace, KeepLatest or Debounce, not {pipeline.OnDuplicate}.");
        }

        foreach (var (name, value) in new[] { ("DebounceDelay", pipeline.DebounceDelay), ("DebounceMaxWait", pipeline.DebounceMaxWait) })
        {
            if (value is not null)
            {
                problems.Add($"{path}:{name} is set, but OnDuplicate is {pipeline.OnDuplicate}: it applies only when OnDuplicate is Debounce.");
            }
        }
    }

    private static RabbitMqConsumerOptions<RabbitMqMessage, byte[]> Consumer(string name, PipelineSettings pipeline, BrokerSettings broker)
    {
        var options = new RabbitMqConsumerOptions<RabbitMqMessage, byte[]>
        {
            // Checked here as the consumer sees it; registered once, as the shared broker settings (see Register).
            ConnectionUri = broker.Uri,
            ConnectionName = broker.ConnectionName ?? $"jobdedup-worker:{name}",
            Queue = pipeline.Queue,
            Prefetch = pipeline.Prefetch,
            MaxDeliveryAttempts = pipeline.MaxDeliveryAttempts,
            MaxHeldDuplicatesPerKey = pipeline.MaxHeldDuplicatesPerKey,
            MaxMessageBytes = pipeline.MaxMessageBytes,
            QueueType = pipeline.QueueType,
            Partitions = pipeline.Partitions,
            MaxHandlerRunsPerMessage = pipeline.MaxHandlerRunsPerMessage,
            FailFastOnStart = broker.FailFastOnStart,
            KeyRule = KeyRule(pipeline),
        };
        if (pipeline.RetryDelays is not null)
        {
            options.RetryDelays = pipeline.RetryDelays;
        }

        return options;
    }

    /// <summary>Tells whether a failed start is the broker refusing the user name or password of the broker address.</summary>
    public static bool IsCredentialsRefused(Exception exception)
    {
        for (Exception? ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is RabbitMQ.Client.Exceptions.AuthenticationFailureException or RabbitMQ.Client.Exceptions.PossibleAuthenticationFailureException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>How a pipeline's messages are keyed; the dead-letter tool keys them the same way.</summary>
    internal static RabbitMqKeyRule KeyRule(PipelineSettings pipeline)
    {
        if (!pipeline.Deduplicate)
        {
            return RabbitMqKeyRule.From(static _ => Guid.NewGuid().ToString("N"), "a new key for every message (Deduplicate is false)");
        }

        var name = pipeline.Key.Name ?? string.Empty;
        return pipeline.Key.Source switch
        {
            KeySource.MessageId => RabbitMqKeyRule.MessageId(),
            KeySource.Header when name.Length > 0 => RabbitMqKeyRule.Header(name),
            KeySource.JsonProperty when name.Length > 0 => RabbitMqKeyRule.JsonProperty(name),
            _ => RabbitMqKeyRule.Default,
        };
    }

    private static IJobHandler<RabbitMqMessage, byte[]> Handler(IServiceProvider services, string name, PipelineSettings pipeline, BrokerSettings broker)
    {
        if (pipeline.Handler.Type == HandlerType.Publish)
        {
            var publisher = new RabbitMqJobPublisher(
                new RabbitMqPublisherOptions
                {
                    ConnectionUri = broker.Uri,
                    ConnectionName = $"jobdedup-worker:{name}:relay",
                    Exchange = pipeline.Handler.Exchange,
                    RoutingKey = pipeline.Handler.RoutingKey,
                },
                services.GetService<ILogger<RabbitMqJobPublisher>>());
            return new PublishRelayHandler(publisher, pipeline.Handler.RoutingKey!);
        }

        return HttpForwarding.Create(services, name, pipeline);
    }

    private static bool IsConnectionString(string value)
    {
        try
        {
            return new Npgsql.NpgsqlConnectionStringBuilder(value).Host is { Length: > 0 };
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static bool IsRedisConfiguration(string value)
    {
        try
        {
            return StackExchange.Redis.ConfigurationOptions.Parse(value).EndPoints.Count > 0;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void ValidatePartitionLeases(List<string> problems, string path, PipelineSettings pipeline)
    {
        var leases = pipeline.PartitionLeases;
        if (pipeline.Partitions <= 0)
        {
            if (leases.PostgreSql is not null)
            {
                problems.Add($"{path}:PartitionLeases:PostgreSql is set but {path}:Partitions is 0; set Partitions, or remove PartitionLeases.");
            }

            return;
        }

        if (pipeline.PartitionAssignment != PartitionAssignment.Leases)
        {
            return;
        }

        if (pipeline.PartitionLeaseConnection is not { } connectionString)
        {
            problems.Add(
                $"{path}:PartitionLeases:PostgreSql must be set (or {path}:PostgreSql, which it defaults to): the workers of a partitioned pipeline " +
                $"share the partitions through leases in PostgreSQL. To run without a database, set {path}:PartitionAssignment=SingleActiveConsumer; " +
                "then one worker consumes every partition and the others stand by.");
            return;
        }

        if (leases.PostgreSql is not null && !IsConnectionString(connectionString))
        {
            problems.Add($"{path}:PartitionLeases:PostgreSql must be a PostgreSQL connection string such as Host=127.0.0.1;Username=...;Database=....");
        }

        var options = new PostgreSqlPartitionLeaseOptions { ConnectionString = connectionString };
        Copy(leases, options);
        foreach (var problem in options.Validate())
        {
            problems.Add($"{path}:PartitionLeases:{problem}");
        }
    }

    private static void Copy(PartitionLeaseSettings from, PostgreSqlPartitionLeaseOptions to)
    {
        to.Schema = from.Schema;
        to.TablePrefix = from.TablePrefix;
        to.HeartbeatInterval = from.HeartbeatInterval;
        to.MemberTimeout = from.MemberTimeout;
    }

    private static void ValidateKey(List<string> problems, string path, KeySettings key)
    {
        if (key.Source is KeySource.Header or KeySource.JsonProperty && string.IsNullOrWhiteSpace(key.Name))
        {
            problems.Add($"{path}:Key:Name must name the {(key.Source == KeySource.Header ? "header" : "JSON property")} the key is read from.");
        }
    }

    private static void ValidateRequestTimeout(List<string> problems, string path, TimeSpan? requestTimeout, TimeSpan attemptTimeout)
    {
        if (requestTimeout is { } timeout && (timeout < HttpForwarding.ShortestRequestTimeout || timeout > attemptTimeout))
        {
            problems.Add(
                $"{path}:Handler:RequestTimeout must be from {HttpForwarding.ShortestRequestTimeout.TotalMilliseconds:0} ms up to {path}:AttemptTimeout ({attemptTimeout}), " +
                $"which bounds every request and retry wait of a run together; it is {timeout}.");
        }
    }

    private static void ValidateHandler(List<string> problems, string path, HandlerSettings handler, TimeSpan attemptTimeout)
    {
        switch (handler.Type)
        {
            case HandlerType.Http when !Uri.TryCreate(handler.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps):
                problems.Add($"{path}:Handler:Url must be an absolute http:// or https:// address, not '{handler.Url}'.");
                break;
            case HandlerType.Http:
                ValidateHeaders(problems, path, handler);
                ValidateRequestTimeout(problems, path, handler.RequestTimeout, attemptTimeout);
                break;
            case HandlerType.Publish when string.IsNullOrWhiteSpace(handler.RoutingKey):
                problems.Add($"{path}:Handler:RoutingKey must be set for a Publish handler.");
                break;
            case HandlerType.Publish when handler.Exchange is null:
                problems.Add($"{path}:Handler:Exchange must not be null (leave it empty for the default exchange).");
                break;
            default:
                break;
        }
    }

    private static void ValidateHeaders(List<string> problems, string path, HandlerSettings handler)
    {
        if (handler.Headers is null)
        {
            problems.Add($"{path}:Handler:Headers must not be null.");
            return;
        }

        foreach (var (setting, name) in handler.Headers.Named())
        {
            if (!string.IsNullOrEmpty(name) && !HeaderText.IsToken(name))
            {
                problems.Add($"{path}:Handler:Headers:{setting} must be an HTTP header name (letters, digits, and !#$%&'*+-.^_`|~), not '{name}'; leave it empty to send no such header.");
            }
        }

        for (var i = 0; i < handler.ForwardHeaders.Count; i++)
        {
            if (!HeaderText.IsToken(handler.ForwardHeaders[i]))
            {
                problems.Add($"{path}:Handler:ForwardHeaders:{i} must be an HTTP header name, not '{handler.ForwardHeaders[i]}'.");
            }
        }
    }

    private static void Copy(JobDedupOptions<RabbitMqMessage> from, JobDedupOptions<RabbitMqMessage> to)
    {
        to.MaxRetryAttempts = from.MaxRetryAttempts;
        to.RetryDelay = from.RetryDelay;
        to.RetryMaxDelay = from.RetryMaxDelay;
        to.AttemptTimeout = from.AttemptTimeout;
        to.DedupeWindow = from.DedupeWindow;
        to.Fingerprint = from.Fingerprint;
        to.ClaimLease = from.ClaimLease;
        to.ClaimRenewInterval = from.ClaimRenewInterval;
        to.StoreFailureRatio = from.StoreFailureRatio;
        to.StoreMinimumThroughput = from.StoreMinimumThroughput;
        to.StoreSamplingDuration = from.StoreSamplingDuration;
        to.StoreBreakDuration = from.StoreBreakDuration;
        to.MaxConcurrentHandlers = from.MaxConcurrentHandlers;
        to.QueueCapacity = from.QueueCapacity;
        to.WhenKeyBusy = from.WhenKeyBusy;
        to.OnDuplicate = from.OnDuplicate;
    }

    private static void Copy(RabbitMqConsumerOptions<RabbitMqMessage, byte[]> from, RabbitMqConsumerOptions<RabbitMqMessage, byte[]> to)
    {
        to.ConnectionName = from.ConnectionName;
        to.Queue = from.Queue;
        to.Prefetch = from.Prefetch;
        to.MaxDeliveryAttempts = from.MaxDeliveryAttempts;
        to.MaxHeldDuplicatesPerKey = from.MaxHeldDuplicatesPerKey;
        to.MaxMessageBytes = from.MaxMessageBytes;
        to.QueueType = from.QueueType;
        to.Partitions = from.Partitions;
        to.MaxHandlerRunsPerMessage = from.MaxHandlerRunsPerMessage;
        to.FailFastOnStart = from.FailFastOnStart;
        to.KeyRule = from.KeyRule;
        to.RetryDelays = from.RetryDelays;
    }

}
