namespace JobDedup.Worker.Settings;

/// <summary>The <c>JobDedup</c> section of the worker's configuration.</summary>
public sealed class WorkerSettings
{
    /// <summary>The configuration section these settings are read from.</summary>
    public const string Section = "JobDedup";

    /// <summary>Gets or sets the broker every pipeline uses.</summary>
    public BrokerSettings RabbitMq { get; set; } = new();

    /// <summary>Gets or sets how the worker logs.</summary>
    public LoggingSettings Logging { get; set; } = new();

    /// <summary>Gets or sets the HTTP face: health probes, metrics and the dashboard.</summary>
    public HttpSettings Http { get; set; } = new();

    /// <summary>Gets or sets the export of metrics and traces over OTLP (off unless an endpoint is set).</summary>
    public OtlpSettings Otlp { get; set; } = new();

    /// <summary>Gets or sets how long shutdown lets work in progress finish before returning it to its queue.</summary>
    /// <value>The default is 30 seconds.</value>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets the pipelines, by name.</summary>
    public Dictionary<string, PipelineSettings> Pipelines { get; } = new(StringComparer.Ordinal);
}

/// <summary>Where the broker is.</summary>
public sealed class BrokerSettings
{
    /// <summary>Gets or sets the broker address; <c>amqps://</c> turns TLS on.</summary>
    /// <value>The default is <c>amqp://guest:guest@127.0.0.1:5672/</c>.</value>
    public string Uri { get; set; } = "amqp://guest:guest@127.0.0.1:5672/";

    /// <summary>Gets or sets the connection name shown by the broker.</summary>
    /// <value>The default is <c>jobdedup-worker:</c> followed by the pipeline's name.</value>
    public string? ConnectionName { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the worker fails to start when the broker cannot be reached. When false,
    /// each pipeline connects in the background with backoff and reports Unhealthy until it consumes.
    /// </summary>
    /// <value>The default is <see langword="true"/>: a worker with no broker exits at once, saying why.</value>
    public bool FailFastOnStart { get; set; } = true;
}

/// <summary>How the worker logs.</summary>
public sealed class LoggingSettings
{
    /// <summary>Gets or sets a value indicating whether each log line is a JSON object.</summary>
    /// <value>The default is <see langword="false"/>: one readable line per event.</value>
    public bool Json { get; set; }
}
