using System.Collections.Concurrent;
using System.Text;
using JobDedup.RabbitMq;
using JobDedup.Worker.Handlers;
using JobDedup.Worker.Settings;
using JobDedup.Worker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace JobDedup.Worker.Tests.Handlers;

/// <summary>The HTTP forward handler on its IHttpClientFactory client with the standard resilience handler, against a real local endpoint.</summary>
[Collection(BrokerCollection.Name)]
public sealed class HttpForwardHandlerTests(Broker broker)
{
    private const string HostileKey = "j\r\nX-Evil: 1\u0000";

    [Fact]
    public void EncodeKey_HostileKey_HoldsNoLineBreakAndDecodesBack()
    {
        var encoded = HeaderText.EncodeKey(HostileKey);

        Assert.Equal("j%0D%0AX-Evil%3A%201%00", encoded);
        Assert.True(HeaderText.IsSafeValue(encoded));
        Assert.Equal(HostileKey, HeaderText.DecodeKey(encoded));
    }

    [Theory]
    [InlineData("order-42", "order-42")]
    [InlineData("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324")]
    [InlineData("café-ключ-✓", "caf%C3%A9-%D0%BA%D0%BB%D1%8E%D1%87-%E2%9C%93")]
    [InlineData("a%41 b", "a%2541%20b")]
    public void EncodeKey_PercentEncodesEveryByteOutsideTheUnreservedSet(string key, string expected)
    {
        Assert.Equal(expected, HeaderText.EncodeKey(key));
        Assert.Equal(key, HeaderText.DecodeKey(expected));
    }

    [Fact]
    public async Task Forward_NonAsciiKey_IsSentAsAPercentEncodedIdempotencyKeyThatDecodesBack()
    {
        await using var endpoint = await RecordingEndpoint.StartAsync();
        await using var forward = Forward.Create(endpoint.Url);

        var outcome = await forward.Dedup.EnqueueAsync("café-ключ-✓", Message("{}")).Within();

        Assert.Equal(JobStatus.Succeeded, outcome.Status);
        var request = Assert.Single(endpoint.Requests);
        Assert.Equal("caf%C3%A9-%D0%BA%D0%BB%D1%8E%D1%87-%E2%9C%93", request["idempotency-key"]);
        Assert.Equal("café-ключ-✓", Uri.UnescapeDataString(request["idempotency-key"]));
        Assert.Equal("1", request["x-jobdedup-attempt"]);
    }

    [Fact]
    public async Task Forward_HeaderNamesFromTheSettings_AreUsedAndAnEmptyOneIsLeftOut()
    {
        await using var endpoint = await RecordingEndpoint.StartAsync();
        await using var forward = Forward.Create(endpoint.Url, pipeline =>
        {
            pipeline.Handler.Headers.IdempotencyKey = "X-Request-Key";
            pipeline.Handler.Headers.Attempt = string.Empty;
        });

        await forward.Dedup.EnqueueAsync("evt 1", Message("{}")).Within();

        var request = Assert.Single(endpoint.Requests);
        Assert.Equal("evt%201", request["x-request-key"]);
        Assert.False(request.ContainsKey("idempotency-key"));
        Assert.False(request.ContainsKey("x-jobdedup-attempt"));
    }

    [Fact]
    public async Task Forward_HostileKey_IsRefusedByTheKeyPolicyAndNoRequestIsSent()
    {
        await using var endpoint = await RecordingEndpoint.StartAsync();
        await using var forward = Forward.Create(endpoint.Url);

        var error = Assert.Throws<ArgumentException>(() => { _ = forward.Dedup.EnqueueAsync(HostileKey, Message("{}")); });

        Assert.Equal("key", error.ParamName);
        Assert.Equal(0, endpoint.Count);
    }

    [Fact]
    public async Task Consumer_HostileKeyHeader_IsDeadLetteredAsInvalidKeyAndNeverReachesTheEndpoint()
    {
        await using var endpoint = await RecordingEndpoint.StartAsync();
        await using var queue = await TestQueue.CreateAsync(broker, "forward-hostile");
        using var settled = new Settlements(queue.Name);
        var pipeline = Forward.Pipeline(endpoint.Url);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        HttpForwarding.AddClient(builder.Services, queue.Name, pipeline);
        builder.Services
            .AddJobDedup<RabbitMqMessage, byte[]>(queue.Name, o => o.MaxRetryAttempts = 0)
            .UseHandler(sp => HttpForwarding.Create(sp, queue.Name, pipeline))
            .AddRabbitMqConsumer(o =>
            {
                o.ConnectionUri = Broker.Uri;
                o.Queue = queue.Name;
                o.RetryDelays = [TimeSpan.FromMilliseconds(50)];
            });
        using var host = builder.Build();
        await host.StartAsync().Within();

        await queue.PublishAsync(HostileKey, "{}");
        await queue.PublishAsync("café-ключ-✓", "{}");
        await Watchdog.Until(() => settled["dead-letter"] == 1 && settled["ack"] == 1, "the hostile key dead-lettered, the other forwarded");
        await host.StopAsync().Within();

        var request = Assert.Single(endpoint.Requests);
        Assert.False(request.ContainsKey("x-evil"));
        Assert.Equal("café-ключ-✓", Uri.UnescapeDataString(request["idempotency-key"]));
        var letter = Assert.Single(await queue.DrainAsync(queue.DeadLetterQueue));
        Assert.Equal(DeadLetterReasons.InvalidKey, Encoding.UTF8.GetString((byte[])letter.BasicProperties.Headers![JobDedupHeaders.Reason]!));
    }

    [Fact]
    public async Task Forward_503WithRetryAfter_IsRetriedOnlyAfterTheDelayTheEndpointAsked()
    {
        await using var endpoint = await RecordingEndpoint.StartAsync();
        endpoint.Respond = n => n == 1 ? (503, new() { ["Retry-After"] = "20" }) : (200, []);
        var time = new DueTimeRecorder();
        await using var forward = Forward.Create(endpoint.Url, time: time);

        var call = forward.Dedup.EnqueueAsync("evt_1", Message("{}")).AsTask();
        await Watchdog.Until(() => time.Armed(TimeSpan.FromSeconds(20)), "the retry waits the 20 s of Retry-After");
        Assert.Equal(1, endpoint.Count);
        Assert.False(call.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(20));
        var outcome = await call.Within();

        Assert.Equal(JobStatus.Succeeded, outcome.Status);
        Assert.Equal("answer 2", Encoding.UTF8.GetString(outcome.Value!));
        Assert.Equal(2, endpoint.Count);
        Assert.Equal(1, outcome.Attempts); // one handler run; the request was retried inside it
    }

    [Theory]
    [InlineData(null, 300_000, 10_000)]
    [InlineData(null, 4_000, 4_000)]
    [InlineData(3_000, 300_000, 3_000)]
    [InlineData(45_000, 300_000, 45_000)]
    public void Configure_EachRequestsTimeout_IsRequestTimeoutOrTenSecondsWithinAttemptTimeout(int? requestMilliseconds, int attemptMilliseconds, int expectedMilliseconds)
    {
        var pipeline = Forward.Pipeline(new Uri("http://127.0.0.1:1/hooks"));
        pipeline.AttemptTimeout = TimeSpan.FromMilliseconds(attemptMilliseconds);
        pipeline.Handler.RequestTimeout = requestMilliseconds is { } ms ? TimeSpan.FromMilliseconds(ms) : null;
        var options = new HttpStandardResilienceOptions();

        HttpForwarding.Configure(options, pipeline);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), options.AttemptTimeout.Timeout);
        Assert.Equal(pipeline.AttemptTimeout, options.TotalRequestTimeout.Timeout);
        Assert.True(options.CircuitBreaker.SamplingDuration >= 2 * options.AttemptTimeout.Timeout, "the breaker samples at least two requests' time, as the resilience handler requires");
    }

    [Fact]
    public async Task Forward_EndpointSlowerThanRequestTimeout_FailsWithThatTimeout()
    {
        await using var endpoint = await RecordingEndpoint.StartAsync();
        endpoint.Hold = TimeSpan.FromMinutes(2);
        await using var forward = Forward.Create(endpoint.Url, pipeline =>
        {
            pipeline.MaxRetryAttempts = 0;
            pipeline.Handler.RequestTimeout = TimeSpan.FromMilliseconds(200);
        });

        var outcome = await forward.Dedup.EnqueueAsync("evt_1", Message("{}")).Within();

        Assert.Equal(JobStatus.Failed, outcome.Status);
        var timeout = Assert.IsType<Polly.Timeout.TimeoutRejectedException>(outcome.Exception);
        Assert.Equal(TimeSpan.FromMilliseconds(200), timeout.Timeout);
    }

    [Fact]
    public async Task Forward_400_IsAPermanentFailureAndIsNotRetried()
    {
        await using var endpoint = await RecordingEndpoint.StartAsync();
        endpoint.Respond = _ => (400, []);
        await using var forward = Forward.Create(endpoint.Url, pipeline => pipeline.MaxRetryAttempts = 3);

        var outcome = await forward.Dedup.EnqueueAsync("evt_1", Message("{}")).Within();

        Assert.Equal(JobStatus.Failed, outcome.Status);
        var failure = Assert.IsType<HttpPermanentFailureException>(outcome.Exception);
        Assert.True(FailureClassification.IsPermanentByDefault(failure));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, failure.StatusCode);
        Assert.Equal(1, endpoint.Count);
    }

    [Fact]
    public async Task Forward_ForwardedHeaderWithALineBreak_IsAPermanentFailureAndNoRequestIsSent()
    {
        await using var endpoint = await RecordingEndpoint.StartAsync();
        await using var forward = Forward.Create(endpoint.Url, pipeline => pipeline.Handler.ForwardHeaders.Add("x-event-type"));
        var message = new RabbitMqMessage(Encoding.UTF8.GetBytes("{}"), new Dictionary<string, object?> { ["x-event-type"] = Encoding.UTF8.GetBytes("paid\r\nX-Evil: 1") });

        var outcome = await forward.Dedup.EnqueueAsync("evt_1", message).Within();

        Assert.Equal(JobStatus.Failed, outcome.Status);
        Assert.IsType<HttpPermanentFailureException>(outcome.Exception);
        Assert.Contains("x-event-type", outcome.Exception!.Message, StringComparison.Ordinal);
        Assert.Equal(1, outcome.Attempts);
        Assert.Equal(0, endpoint.Count);
    }

    private static RabbitMqMessage Message(string body) => new(Encoding.UTF8.GetBytes(body));

    /// <summary>A deduplicator running the worker's HTTP forward handler, built as the worker builds it.</summary>
    private sealed class Forward : IAsyncDisposable
    {
        private readonly ServiceProvider _services;

        private Forward(ServiceProvider services, JobDeduplicator<RabbitMqMessage, byte[]> dedup)
        {
            _services = services;
            Dedup = dedup;
        }

        public JobDeduplicator<RabbitMqMessage, byte[]> Dedup { get; }

        public static PipelineSettings Pipeline(Uri url)
        {
            var pipeline = new PipelineSettings { Queue = "forward", RetryDelay = TimeSpan.FromMilliseconds(1), AttemptTimeout = TimeSpan.FromMinutes(5) };
            pipeline.Handler.Url = url.ToString();
            return pipeline;
        }

        public static Forward Create(Uri url, Action<PipelineSettings>? configure = null, TimeProvider? time = null)
        {
            var pipeline = Pipeline(url);
            configure?.Invoke(pipeline);
            var services = new ServiceCollection();
            services.AddLogging();
            if (time is not null)
            {
                services.AddSingleton(time);
            }

            HttpForwarding.AddClient(services, "forward", pipeline);
            var provider = services.BuildServiceProvider();
            var handler = HttpForwarding.Create(provider, "forward", pipeline);
            var dedup = new JobDeduplicator<RabbitMqMessage, byte[]>(handler, new JobDedupOptions<RabbitMqMessage> { Name = "forward", MaxRetryAttempts = 0 });
            return new Forward(provider, dedup);
        }

        public async ValueTask DisposeAsync()
        {
            await Dedup.DisposeAsync();
            await _services.DisposeAsync();
        }
    }

    /// <summary>A fake clock that remembers the due time of every timer armed on it.</summary>
    private sealed class DueTimeRecorder : FakeTimeProvider
    {
        private readonly ConcurrentQueue<TimeSpan> _dueTimes = new();

        public bool Armed(TimeSpan dueTime) => _dueTimes.Contains(dueTime);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _dueTimes.Enqueue(dueTime);
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}
