using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Failures;

public sealed class FailureClassificationTests
{
    public static TheoryData<Exception, bool> DefaultCases => new()
    {
        { new ArgumentException("bad"), true },
        { new ArgumentNullException("x"), true },
        { new ArgumentOutOfRangeException("x"), true },
        { new FormatException("bad"), true },
        { new InvalidCastException("bad"), true },
        { new NotSupportedException("no"), true },
        { new PlatformNotSupportedException("no"), true },
        { new NotImplementedException("no"), true },
        { new PermanentFailureException("refused"), true },
        { new InvalidOperationException("busy"), false },
        { new TimeoutException("slow"), false },
        { new HttpRequestException("down"), false },
        { new OperationCanceledException(), false },
        { new TaskCanceledException(), false },
    };

    [Theory]
    [MemberData(nameof(DefaultCases))]
    public void IsPermanent_DefaultClassification_TreatsWrongInputAsPermanentAndTheRestAsTransient(Exception failure, bool permanent)
    {
        Assert.Equal(permanent, FailureClassification.IsPermanent(null, failure, out var classifierFailure));
        Assert.Null(classifierFailure);
    }

    [Fact]
    public void IsPermanent_ClassifierSaysCancellationIsPermanent_StillNotPermanent()
    {
        Assert.False(FailureClassification.IsPermanent(_ => true, new OperationCanceledException(), out _));
    }

    [Fact]
    public void IsPermanent_ReplayedKeptFailure_IsPermanentEvenWhenTheClassifierSaysTransient()
    {
        var replayed = new ReplayedFailureException(new StoredFailure("Payments.CardDeclinedException", "declined"));

        Assert.True(FailureClassification.IsPermanent(null, replayed, out _));
        Assert.True(FailureClassification.IsPermanent(_ => false, replayed, out var classifierFailure));
        Assert.Null(classifierFailure);
    }

    [Fact]
    public void IsPermanent_ClassifierThrows_NotPermanentAndTheFailureIsReturned()
    {
        var bug = new InvalidOperationException("bug in the classifier");

        Assert.False(FailureClassification.IsPermanent(_ => throw bug, new ArgumentException("x"), out var classifierFailure));
        Assert.Same(bug, classifierFailure);
    }

    [Fact]
    public async Task EnqueueAsync_PermanentFailureByDefault_IsNotRetriedInTheFlight()
    {
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) =>
            {
                Interlocked.Increment(ref runs);
                throw new ArgumentException("the job is malformed");
            },
            o => o.MaxRetryAttempts = 3);

        var outcome = await dedup.EnqueueAsync(new Job("k", "x")).Within();

        Assert.Equal(JobStatus.Failed, outcome.Status);
        Assert.IsType<ArgumentException>(outcome.Exception);
        Assert.Equal(1, outcome.Attempts);
        Assert.Equal(1, runs);
        Assert.Equal(0, dedup.GetStats().Retries);
    }

    [Fact]
    public async Task EnqueueAsync_TransientFailure_IsRetriedUpToMaxRetryAttempts()
    {
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) =>
            {
                Interlocked.Increment(ref runs);
                throw new InvalidOperationException("downstream busy");
            },
            o => o.MaxRetryAttempts = 3);

        var outcome = await dedup.EnqueueAsync(new Job("k", "x")).Within();

        Assert.Equal(4, outcome.Attempts);
        Assert.Equal(4, runs);
    }

    [Fact]
    public async Task EnqueueAsync_CustomIsPermanentFailure_ReplacesTheDefault()
    {
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, context, _) =>
            {
                Interlocked.Increment(ref runs);
                return context.Attempt == 1 ? throw new ArgumentException("retry me") : ValueTask.FromResult("ok");
            },
            o =>
            {
                o.MaxRetryAttempts = 2;
                o.IsPermanentFailure = ex => ex is TimeoutException;
            });

        var outcome = await dedup.EnqueueAsync(new Job("k", "x")).Within();

        Assert.Equal("ok", outcome.Value);
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task EnqueueAsync_ClassifierThrows_TheFailureIsRetriedAsTransient()
    {
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) =>
            {
                Interlocked.Increment(ref runs);
                throw new ArgumentException("x");
            },
            o =>
            {
                o.MaxRetryAttempts = 1;
                o.IsPermanentFailure = _ => throw new InvalidOperationException("bug in the classifier");
            });

        var outcome = await dedup.EnqueueAsync(new Job("k", "x")).Within();

        Assert.Equal(JobStatus.Failed, outcome.Status);
        Assert.IsType<ArgumentException>(outcome.Exception);
        Assert.Equal(2, runs);
    }

    [Fact]
    public void Options_DefaultMaxRetryAttempts_IsOneSoTwoAttempts()
    {
        Assert.Equal(1, new JobDedupOptions<Job>().MaxRetryAttempts);
    }
}
