using JobDedup.Partitions;
using JobDedup.RabbitMq.Partitions;

namespace JobDedup.RabbitMq.Tests.Partitions;

/// <summary>The pure decision of which partitions a member holds, from the members and the leases.</summary>
public sealed class PartitionAssignmentTests
{
    private static readonly HashSet<int> None = [];

    [Theory]
    [InlineData(4, 2, new[] { 2, 2 })]
    [InlineData(4, 3, new[] { 2, 1, 1 })]
    [InlineData(8, 3, new[] { 3, 3, 2 })]
    [InlineData(2, 3, new[] { 1, 1, 0 })]
    [InlineData(1, 1, new[] { 1 })]
    public void Share_OverEveryMember_AddsUpToThePartitionsAndDiffersByAtMostOne(int partitions, int members, int[] expected)
    {
        var shares = Enumerable.Range(0, members).Select(i => PartitionAssignment.Share(partitions, members, i)).ToArray();

        Assert.Equal(expected, shares);
        Assert.Equal(partitions, shares.Sum());
    }

    [Fact]
    public void Plan_AloneWithNoLeases_AcquiresEveryPartition()
    {
        var plan = PartitionAssignment.Plan("a", View(["a"]), 4, None, None, None);

        Assert.Equal(4, plan.Share);
        Assert.Equal([0, 1, 2, 3], plan.Acquire);
        Assert.Empty(plan.Release);
    }

    [Fact]
    public void Plan_MemberTheStoreDoesNotListYet_CountsItselfAmongTheMembers()
    {
        var listed = PartitionAssignment.Plan("b", View(["a", "b"]), 4, None, None, None);
        var unlisted = PartitionAssignment.Plan("c", View(["a", "b"]), 4, None, None, None);

        Assert.Equal(2, listed.Members);
        Assert.Equal(3, unlisted.Members);
        Assert.Equal(1, unlisted.Share);
    }

    [Fact]
    public void Plan_TwoMembersStartingTogether_AcquireDisjointHomePartitions()
    {
        var a = PartitionAssignment.Plan("a", View(["a", "b"]), 4, None, None, None);
        var b = PartitionAssignment.Plan("b", View(["a", "b"]), 4, None, None, None);

        Assert.Equal([0, 2], a.Acquire);
        Assert.Equal([1, 3], b.Acquire);
    }

    [Fact]
    public void Plan_OwnerOfEverythingWhenASecondMemberJoins_ReleasesTheOtherMembersHomePartitions()
    {
        var view = View(["a", "b"], (0, "a"), (1, "a"), (2, "a"), (3, "a"));

        var plan = PartitionAssignment.Plan("a", view, 4, new HashSet<int> { 0, 1, 2, 3 }, None, None);

        Assert.Equal(2, plan.Share);
        Assert.Equal([1, 3], plan.Release);
        Assert.Empty(plan.Acquire);
        Assert.Empty(plan.Lost);
    }

    [Fact]
    public void Plan_NewMemberWhilePartitionsAreStillHeld_AcquiresOnlyWhatIsFree()
    {
        var view = View(["a", "b"], (0, "a"), (1, "a"), (2, "a"));

        var plan = PartitionAssignment.Plan("b", view, 4, None, None, None);

        Assert.Equal([3], plan.Acquire);
    }

    [Fact]
    public void Plan_PartitionsBeingDrained_AreNeitherReleasedAgainNorCountedAsKept()
    {
        var view = View(["a", "b"], (0, "a"), (1, "a"), (2, "a"), (3, "a"));

        var plan = PartitionAssignment.Plan("a", view, 4, new HashSet<int> { 0, 2 }, None, new HashSet<int> { 1, 3 });

        Assert.True(plan.IsSteady);
    }

    [Fact]
    public void Plan_ConsumedPartitionWhoseLeaseIsGone_IsLost()
    {
        var view = View(["a", "b"], (0, "a"), (1, "b"));

        var plan = PartitionAssignment.Plan("a", view, 2, new HashSet<int> { 0, 1 }, None, None);

        Assert.Equal([1], plan.Lost);
        Assert.Empty(plan.Acquire);
    }

    [Fact]
    public void Plan_OwnedButNotConsumed_IsConsumedAgain()
    {
        var view = View(["a", "b"], (0, "a"), (2, "a"));

        var plan = PartitionAssignment.Plan("a", view, 4, None, None, None);

        Assert.Equal([0, 2], plan.Consume);
        Assert.Empty(plan.Acquire);
    }

    [Fact]
    public void Plan_HeldButNotConsumed_IsConsumedAgainAtEveryRenewal()
    {
        // A held partition's subscription failed, or was not made as the renewal came too late: while its lease is kept,
        // each renewal must try again (a plan that counted it as consumed left it unconsumed for good, its lease renewed).
        var view = View(["a", "b"], (0, "a"), (2, "a"));

        var plan = PartitionAssignment.Plan("a", view, 4, new HashSet<int> { 0 }, new HashSet<int> { 2 }, None);

        Assert.Equal([2], plan.Consume);
        Assert.Empty(plan.Acquire);
        Assert.Empty(plan.Lost);
    }

    [Fact]
    public void Plan_HeldOverTheShare_IsReleasedNotConsumed()
    {
        // a holds three of four partitions (one only held, not consumed) while its share among two is two: it gives up
        // the highest that is b's home (3, held), and consumes nothing it is about to release.
        var view = View(["a", "b"], (0, "a"), (2, "a"), (3, "a"));

        var plan = PartitionAssignment.Plan("a", view, 4, new HashSet<int> { 0, 2 }, new HashSet<int> { 3 }, None);

        Assert.Equal([3], plan.Release);
        Assert.Empty(plan.Consume);
        Assert.Empty(plan.Lost);
    }

    [Fact]
    public void Plan_HeldPartitionWhoseLeaseIsGone_IsLost()
    {
        var view = View(["a", "b"], (0, "a"), (1, "b"));

        var plan = PartitionAssignment.Plan("a", view, 2, new HashSet<int> { 0 }, new HashSet<int> { 1 }, None);

        Assert.Equal([1], plan.Lost);
        Assert.Empty(plan.Consume);
    }

    [Fact]
    public void Plan_MemberMissingFromTheView_CountsItselfIn()
    {
        var plan = PartitionAssignment.Plan("b", View(["a"]), 4, None, None, None);

        Assert.Equal(2, plan.Share);
    }

    [Fact]
    public void Plan_ThreeMembersAfterOneDied_SurvivorsTakeTheFreedPartitions()
    {
        // c died: the store dropped its leases (2 and 5); a and b now share six partitions, three each.
        var view = View(["a", "b"], (0, "a"), (3, "a"), (1, "b"), (4, "b"));

        var a = PartitionAssignment.Plan("a", view, 6, new HashSet<int> { 0, 3 }, None, None);
        var b = PartitionAssignment.Plan("b", view, 6, new HashSet<int> { 1, 4 }, None, None);

        Assert.Single(a.Acquire);
        Assert.Single(b.Acquire);
        Assert.Equal([2, 5], a.Acquire.Concat(b.Acquire).Order());
    }

    /// <summary>
    /// Every member planning from the same view, then doing what it planned, and again, converges to shares that differ
    /// by at most one, with every partition held by exactly one member, from any starting point.
    /// </summary>
    [Theory]
    [InlineData(4, 2, 0)]
    [InlineData(4, 3, 1)]
    [InlineData(8, 3, 2)]
    [InlineData(16, 5, 3)]
    [InlineData(3, 4, 4)]
    public void Plan_RepeatedByEveryMember_ConvergesToAFairDisjointAssignment(int partitions, int memberCount, int seed)
    {
        var random = new Random(seed);
        var members = Enumerable.Range(0, memberCount).Select(i => $"m{i:D2}").ToArray();
        var owners = new Dictionary<int, string>();
        for (var p = 0; p < partitions; p++)
        {
            if (random.Next(3) > 0)
            {
                owners[p] = members[random.Next(memberCount)];
            }
        }

        for (var round = 0; round < 10; round++)
        {
            foreach (var member in members.OrderBy(_ => random.Next()))
            {
                var held = owners.Where(o => o.Value == member).Select(o => o.Key).ToHashSet();
                var plan = PartitionAssignment.Plan(member, new PartitionLeaseView(members, new Dictionary<int, string>(owners)), partitions, held, None, None);
                foreach (var p in plan.Release.Concat(plan.Lost))
                {
                    owners.Remove(p);
                }

                foreach (var p in plan.Acquire)
                {
                    Assert.False(owners.ContainsKey(p), $"partition {p} planned for {member} although {owners.GetValueOrDefault(p)} holds it");
                    owners[p] = member;
                }
            }
        }

        Assert.Equal(partitions, owners.Count);
        var counts = members.Select(m => owners.Count(o => o.Value == m)).ToArray();
        Assert.True(counts.Max() - counts.Min() <= 1, $"shares {string.Join(", ", counts)}");
    }

    private static PartitionLeaseView View(string[] members, params (int Partition, string Owner)[] owners) =>
        new(members, owners.ToDictionary(o => o.Partition, o => o.Owner));
}
