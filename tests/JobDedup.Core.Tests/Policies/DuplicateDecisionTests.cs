using JobDedup.Conflicts;

namespace JobDedup.Core.Tests.Policies;

public sealed class DuplicateDecisionTests
{
    [Theory]
    [InlineData(DuplicatePolicyKind.Join, "Pending", "Join")]
    [InlineData(DuplicatePolicyKind.Join, "Running", "Join")]
    [InlineData(DuplicatePolicyKind.Reject, "Pending", "Reject")]
    [InlineData(DuplicatePolicyKind.Reject, "Running", "Reject")]
    [InlineData(DuplicatePolicyKind.Replace, "Pending", "ReplaceJob")]
    [InlineData(DuplicatePolicyKind.Replace, "Running", "Join")]
    [InlineData(DuplicatePolicyKind.KeepLatest, "Pending", "ReplaceJob")]
    [InlineData(DuplicatePolicyKind.KeepLatest, "Running", "StartPending")]
    [InlineData(DuplicatePolicyKind.KeepLatest, "Abandoned", "StartPending")]
    [InlineData(DuplicatePolicyKind.Debounce, "Pending", "Extend")]
    [InlineData(DuplicatePolicyKind.Debounce, "Running", "Join")]
    [InlineData(DuplicatePolicyKind.Throttle, "Pending", "Join")]
    [InlineData(DuplicatePolicyKind.Throttle, "Running", "Join")]
    public void Decide_FlightHoldsTheKey_GivesThePolicysAction(DuplicatePolicyKind policy, string holder, string expected) =>
        Assert.Equal(Enum.Parse<DuplicateAction>(expected), DuplicateDecision.Decide(policy, Enum.Parse<KeyHolder>(holder)));

    [Theory]
    [InlineData(DuplicatePolicyKind.Join)]
    [InlineData(DuplicatePolicyKind.Reject)]
    [InlineData(DuplicatePolicyKind.Replace)]
    [InlineData(DuplicatePolicyKind.KeepLatest)]
    [InlineData(DuplicatePolicyKind.Debounce)]
    [InlineData(DuplicatePolicyKind.Throttle)]
    public void Decide_NobodyOrAClosedOwnerHoldsTheKey_StartsANewFlightUnderEveryPolicy(DuplicatePolicyKind policy)
    {
        Assert.Equal(DuplicateAction.NewFlight, DuplicateDecision.Decide(policy, KeyHolder.None));
        Assert.Equal(DuplicateAction.NewFlight, DuplicateDecision.Decide(policy, KeyHolder.Closed));
    }

    [Theory]
    [InlineData(DuplicatePolicyKind.Join)]
    [InlineData(DuplicatePolicyKind.Reject)]
    [InlineData(DuplicatePolicyKind.Replace)]
    [InlineData(DuplicatePolicyKind.Debounce)]
    public void Decide_AbandonedFlightHoldsTheKey_StartsASuccessorExceptUnderKeepLatest(DuplicatePolicyKind policy) =>
        Assert.Equal(DuplicateAction.NewFlight, DuplicateDecision.Decide(policy, KeyHolder.Abandoned));

    [Theory]
    [InlineData(DuplicatePolicyKind.Replace, true)]
    [InlineData(DuplicatePolicyKind.Debounce, true)]
    [InlineData(DuplicatePolicyKind.KeepLatest, false)]
    public void JoinsOnceStarted_JobCameTooLateToReplace_OnlyKeepLatestDecidesAgain(DuplicatePolicyKind policy, bool joins) =>
        Assert.Equal(joins, DuplicateDecision.JoinsOnceStarted(policy));
}
