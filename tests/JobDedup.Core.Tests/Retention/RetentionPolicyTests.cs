using JobDedup.Window;

namespace JobDedup.Core.Tests.Retention;

/// <summary>The pure decision: how long a finished run's outcome is kept, by class, options and policy.</summary>
public sealed class RetentionPolicyTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private static readonly JobOutcome<string> Success = JobOutcome<string>.Succeeded("k", "v", JobRole.Leader, 1);
    private static readonly JobOutcome<string> Failure = JobOutcome<string>.Failed("k", new InvalidOperationException("x"), JobRole.Leader, 1);

    [Fact]
    public void WithoutAClassifier_KeepsSuccessesForTheDedupeWindow_AndNoFailure()
    {
        var policy = new RetentionPolicy(Hour, null, DuplicatePolicy.Join);

        Assert.Equal(Hour, policy.For(Success, out _));
        Assert.Equal(TimeSpan.Zero, policy.For(Failure, out _));
        Assert.True(policy.KeepsAny);
        Assert.False(new RetentionPolicy(TimeSpan.Zero, null, DuplicatePolicy.Join).KeepsAny);
    }

    [Fact]
    public void CanceledRejectedUnavailableOrConflict_AreNeverKept()
    {
        var policy = new RetentionPolicy(Hour, _ => Hour, DuplicatePolicy.Throttle(Hour, includeFailures: true));

        Assert.Equal(TimeSpan.Zero, policy.For(JobOutcome<string>.Canceled("k", new OperationCanceledException(), JobRole.Leader, 1), out _));
        Assert.Equal(TimeSpan.Zero, policy.For(JobOutcome<string>.Rejected("k", new JobRejectedException("no")), out _));
        Assert.Equal(TimeSpan.Zero, policy.For(JobOutcome<string>.Unavailable("k", new OutcomeStoreUnavailableException("down")), out _));
        Assert.Equal(TimeSpan.Zero, policy.For(JobOutcome<string>.Conflict("k", new PayloadMismatchException("k", "a", "b")), out _));
    }

    [Fact]
    public void ThrowingClassifier_KeepsNothingButWhatAThrottleCovers_AndHandsTheExceptionBack()
    {
        var bug = new InvalidOperationException("bug");
        var plain = new RetentionPolicy(Hour, _ => throw bug, DuplicatePolicy.Join);
        var throttled = new RetentionPolicy(Hour, _ => throw bug, DuplicatePolicy.Throttle(TimeSpan.FromMinutes(1)));

        Assert.Equal(TimeSpan.Zero, plain.For(Success, out var thrown));
        Assert.Same(bug, thrown);
        Assert.Equal(TimeSpan.FromMinutes(1), throttled.For(Success, out _));
        Assert.Equal(TimeSpan.Zero, throttled.For(Failure, out _));
    }

    [Fact]
    public void AClassifierAnswerLongerThanAYear_IsCutToAYear_ButTheDedupeWindowIsNot()
    {
        var policy = new RetentionPolicy(TimeSpan.Zero, _ => TimeSpan.MaxValue, DuplicatePolicy.Join);

        Assert.Equal(RetentionPolicy.Longest, policy.For(Success, out _));
        Assert.Equal(TimeSpan.FromDays(400), new RetentionPolicy(TimeSpan.FromDays(400), null, DuplicatePolicy.Join).For(Success, out _));
    }
}
