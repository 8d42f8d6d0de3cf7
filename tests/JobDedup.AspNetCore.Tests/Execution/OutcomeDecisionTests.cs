using JobDedup.AspNetCore.Execution;

namespace JobDedup.AspNetCore.Tests.Execution;

public sealed class OutcomeDecisionTests
{
    [Theory]
    [InlineData(JobStatus.Succeeded, InFlightRepeat.Wait, false, (int)OutcomeAction.Replay)]
    [InlineData(JobStatus.Conflict, InFlightRepeat.Wait, false, (int)OutcomeAction.Mismatch)]
    [InlineData(JobStatus.Rejected, InFlightRepeat.Conflict, false, (int)OutcomeAction.InFlight)]
    [InlineData(JobStatus.Rejected, InFlightRepeat.Wait, false, (int)OutcomeAction.Unavailable)]
    [InlineData(JobStatus.Unavailable, InFlightRepeat.Wait, false, (int)OutcomeAction.Unavailable)]
    [InlineData(JobStatus.Canceled, InFlightRepeat.Wait, true, (int)OutcomeAction.ClientGone)]
    [InlineData(JobStatus.Canceled, InFlightRepeat.Wait, false, (int)OutcomeAction.Unavailable)]
    public void Decide_ByStatus(JobStatus status, InFlightRepeat mode, bool clientGone, int expected) =>
        Assert.Equal((OutcomeAction)expected, OutcomeDecision.Decide(status, mode, clientGone));

    [Fact]
    public void Decide_Failed_IsARunFailure() =>
        Assert.Equal(OutcomeAction.RunFailed, OutcomeDecision.Decide(JobStatus.Failed, InFlightRepeat.Wait, false));
}
