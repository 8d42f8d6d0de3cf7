using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Pipeline;

public sealed class InputTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task EnqueueAsync_NullOrEmptyExplicitKey_ThrowsArgumentExceptionNamingKey(string? key)
    {
        await using var dedup = Dedup.Create((job, _, _) => ValueTask.FromResult("v"));

        var error = Assert.ThrowsAny<ArgumentException>(() => { _ = dedup.EnqueueAsync(key!, new Job("k", "x")); });

        Assert.Equal("key", error.ParamName);
    }

    [Fact]
    public async Task EnqueueAsync_KeySelectorReturnsEmpty_ThrowsArgumentExceptionNamingJob()
    {
        await using var dedup = Dedup.Create((job, _, _) => ValueTask.FromResult("v"));

        var error = Assert.Throws<ArgumentException>(() => { _ = dedup.EnqueueAsync(new Job("", "x")); });

        Assert.Equal("job", error.ParamName);
        Assert.Contains("KeySelector", error.Message);
    }

    [Fact]
    public async Task EnqueueAsync_NoKeySelector_ThrowsInvalidOperationNamingTheOption()
    {
        await using var dedup = Dedup.Create((job, _, _) => ValueTask.FromResult("v"), o => o.KeySelector = null);

        var error = Assert.Throws<InvalidOperationException>(() => { _ = dedup.EnqueueAsync(new Job("k", "x")); });

        Assert.Contains("KeySelector", error.Message);
    }

    [Theory]
    [InlineData(nameof(JobDedupOptions<Job>.QueueCapacity))]
    [InlineData(nameof(JobDedupOptions<Job>.MaxConcurrentHandlers))]
    [InlineData(nameof(JobDedupOptions<Job>.MaxRetryAttempts))]
    [InlineData(nameof(JobDedupOptions<Job>.AttemptTimeout))]
    [InlineData(nameof(JobDedupOptions<Job>.DedupeWindow))]
    [InlineData(nameof(JobDedupOptions<Job>.MaxRetainedOutcomes))]
    [InlineData(nameof(JobDedupOptions<Job>.ShutdownTimeout))]
    [InlineData(nameof(JobDedupOptions<Job>.Name))]
    public void Constructor_InvalidOption_ThrowsNamingTheOption(string option)
    {
        Action<JobDedupOptions<Job>> breakIt = option switch
        {
            nameof(JobDedupOptions<Job>.QueueCapacity) => o => o.QueueCapacity = 0,
            nameof(JobDedupOptions<Job>.MaxConcurrentHandlers) => o => o.MaxConcurrentHandlers = -1,
            nameof(JobDedupOptions<Job>.MaxRetryAttempts) => o => o.MaxRetryAttempts = -1,
            nameof(JobDedupOptions<Job>.AttemptTimeout) => o => o.AttemptTimeout = TimeSpan.FromMilliseconds(1),
            nameof(JobDedupOptions<Job>.DedupeWindow) => o => o.DedupeWindow = TimeSpan.FromSeconds(-1),
            nameof(JobDedupOptions<Job>.MaxRetainedOutcomes) => o => o.MaxRetainedOutcomes = 0,
            nameof(JobDedupOptions<Job>.ShutdownTimeout) => o => o.ShutdownTimeout = TimeSpan.FromSeconds(-1),
            _ => o => o.Name = " ",
        };

        var error = Assert.Throws<ArgumentException>(() => Dedup.Create((job, _, _) => ValueTask.FromResult("v"), breakIt));

        Assert.Contains(option, error.Message);
    }

    [Fact]
    public async Task Dispatcher_StoreThrowsSynchronously_CallerGetsUnavailableAndTheLoopGoesOn()
    {
        // An exception inside the dispatcher never escapes its loop.
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult(job.Key),
            o => o.DedupeWindow = TimeSpan.FromMinutes(1),
            store: PoisonedLookup("poison"));

        var poisoned = await dedup.EnqueueAsync(new Job("poison", "x")).Within();
        var healthy = await dedup.EnqueueAsync(new Job("fine", "x")).Within();

        Assert.Equal(JobStatus.Unavailable, poisoned.Status);
        Assert.IsType<InvalidOperationException>(Assert.IsType<OutcomeStoreUnavailableException>(poisoned.Exception).InnerException);
        Assert.Equal("fine", healthy.Value);
    }

    [Fact]
    public async Task Outcome_GetValueOrThrow_ThrowsForCanceledAndRejected()
    {
        await using var dedup = Dedup.Create((job, _, _) => ValueTask.FromResult("v"), o => o.MaxWaitersPerKey = 1);

        var canceled = await dedup.EnqueueAsync(new Job("k", "x"), new CancellationToken(true)).Within();

        Assert.ThrowsAny<OperationCanceledException>(() => canceled.GetValueOrThrow());
    }

    [Fact]
    public async Task Outcome_ToString_NeverShowsTheValue()
    {
        await using var dedup = Dedup.Create((job, _, _) => ValueTask.FromResult("card-4242-secret"));

        var outcome = await dedup.EnqueueAsync(new Job("evt_9", "x")).Within();

        Assert.Equal("card-4242-secret", outcome.GetValueOrThrow());
        Assert.DoesNotContain("secret", outcome.ToString(), StringComparison.Ordinal);
        Assert.Contains("evt_9", outcome.ToString(), StringComparison.Ordinal);
    }

    private static IOutcomeStore<string> PoisonedLookup(string poisonKey)
    {
        var store = new ScriptableOutcomeStore<string>();
        store.Throw(StoreOperation.TryGet, new InvalidOperationException("store is broken for this key"), poisonKey);
        return store.AsPlainStore();
    }
}
