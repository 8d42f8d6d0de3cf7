using JobDedup.RabbitMq.Consuming.Settling;

namespace JobDedup.RabbitMq.Tests.Consuming;

/// <summary>The settlement policy alone: a pure function of the outcome, the delivery attempt and the options.</summary>
public sealed class SettlementPolicyTests
{
    private static readonly SettlementRules Rules = new(MaxDeliveryAttempts: 3, RetryLevels: 2, IsPermanentFailure: ex => ex is ArgumentException);

    [Fact]
    public void Decide_Succeeded_Acks()
    {
        var decision = SettlementPolicy.Decide(JobStatus.Succeeded, null, attempt: 3, Rules);

        Assert.Equal(Settlement.Ack, decision.Settlement);
        Assert.Null(decision.ClassifierFailure);
    }

    [Theory]
    [InlineData(1, 2, 0)]
    [InlineData(2, 3, 1)]
    public void Decide_FailedBeforeTheLastAttempt_RetriesOneAttemptFurtherAtItsLevel(int attempt, int nextAttempt, int level)
    {
        var failure = new TimeoutException("gateway timeout");

        var settlement = SettlementPolicy.Decide(JobStatus.Failed, failure, attempt, Rules).Settlement;

        Assert.Equal(SettlementKind.Retry, settlement.Kind);
        Assert.Equal(nextAttempt, settlement.NextAttempt);
        Assert.Equal(level, settlement.RetryLevel);
        Assert.Same(failure, settlement.Exception);
    }

    [Fact]
    public void Decide_FailedPastTheLevels_StaysOnTheLastRetryLevel()
    {
        var rules = Rules with { MaxDeliveryAttempts = 10 };

        var settlement = SettlementPolicy.Decide(JobStatus.Failed, new TimeoutException(), attempt: 6, rules).Settlement;

        Assert.Equal(SettlementKind.Retry, settlement.Kind);
        Assert.Equal(1, settlement.RetryLevel);
    }

    [Fact]
    public void Decide_FailedOnTheLastAttempt_DeadLettersAsHandlerFailed()
    {
        var failure = new TimeoutException("gateway timeout");

        var settlement = SettlementPolicy.Decide(JobStatus.Failed, failure, attempt: 3, Rules).Settlement;

        Assert.Equal(SettlementKind.DeadLetter, settlement.Kind);
        Assert.Equal(DeadLetterReasons.HandlerFailed, settlement.Reason);
        Assert.Contains("3 delivery attempts", settlement.Detail, StringComparison.Ordinal);
        Assert.Same(failure, settlement.Exception);
    }

    [Fact]
    public void Decide_PermanentFailure_DeadLettersAtOnce()
    {
        var settlement = SettlementPolicy.Decide(JobStatus.Failed, new ArgumentException("card declined"), attempt: 1, Rules).Settlement;

        Assert.Equal(SettlementKind.DeadLetter, settlement.Kind);
        Assert.Equal(DeadLetterReasons.PermanentFailure, settlement.Reason);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Decide_Conflict_DeadLettersAsPayloadMismatchAtOnce_WhateverTheAttempt(int attempt)
    {
        var mismatch = new PayloadMismatchException("evt_1", "fp-new", "fp-old");
        var rules = Rules with { IsPermanentFailure = _ => throw new InvalidOperationException("the classifier is not asked") };

        var decision = SettlementPolicy.Decide(JobStatus.Conflict, mismatch, attempt, rules);

        Assert.Equal(SettlementKind.DeadLetter, decision.Settlement.Kind);
        Assert.Equal(DeadLetterReasons.PayloadMismatch, decision.Settlement.Reason);
        Assert.Equal("payload-mismatch", decision.Settlement.Reason);
        Assert.Same(mismatch, decision.Settlement.Exception);
        Assert.Null(decision.ClassifierFailure);
    }

    [Fact]
    public void Decide_ConflictWithoutAnException_StillDeadLettersWithOne()
    {
        var settlement = SettlementPolicy.Decide(JobStatus.Conflict, null, attempt: 1, Rules).Settlement;

        Assert.Equal(DeadLetterReasons.PayloadMismatch, settlement.Reason);
        Assert.IsType<PayloadMismatchException>(settlement.Exception);
    }

    [Fact]
    public void Decide_ClassifierThrows_RetriesAndHandsBackWhatItThrew()
    {
        var bug = new InvalidOperationException("bug in the classifier");
        var rules = Rules with { IsPermanentFailure = _ => throw bug };

        var decision = SettlementPolicy.Decide(JobStatus.Failed, new TimeoutException(), attempt: 1, rules);

        Assert.Equal(SettlementKind.Retry, decision.Settlement.Kind);
        Assert.Same(bug, decision.ClassifierFailure);
    }

    [Fact]
    public void Decide_Rejected_ParksWithoutCountingAnAttempt()
    {
        Assert.Equal(Settlement.Park, SettlementPolicy.Decide(JobStatus.Rejected, null, attempt: 3, Rules).Settlement);
    }

    [Fact]
    public void Decide_Canceled_Requeues()
    {
        Assert.Equal(Settlement.Requeue, SettlementPolicy.Decide(JobStatus.Canceled, null, attempt: 1, Rules).Settlement);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Decide_StoreUnavailable_RequeuesWithoutCountingAnAttemptEvenOnTheLastOne(int attempt)
    {
        var unavailable = new OutcomeStoreUnavailableException("store down");

        Assert.Equal(Settlement.Requeue, SettlementPolicy.Decide(JobStatus.Unavailable, unavailable, attempt, Rules).Settlement);
    }
}
