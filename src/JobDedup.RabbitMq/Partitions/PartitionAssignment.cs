using JobDedup.Partitions;

namespace JobDedup.RabbitMq.Partitions;

/// <summary>
/// The pure decision of which partitions a member holds: each of the <c>k</c> live members, sorted by id, gets
/// <c>n / k</c> of the <c>n</c> partitions, and the first <c>n % k</c> members one more, so the shares add up to
/// <c>n</c> whatever member computes them. A member over its share gives partitions up; a member under it takes free
/// ones. Each member prefers its "home" partitions (those with <c>p % k</c> equal to its place in the sorted list), so
/// members that start together pick different partitions and rarely race for the same lease.
/// </summary>
internal static class PartitionAssignment
{
    /// <summary>The number of partitions the member at <paramref name="index"/> of <paramref name="members"/> sorted members holds.</summary>
    public static int Share(int partitions, int members, int index) =>
        (partitions / members) + (index < partitions % members ? 1 : 0);

    /// <summary>Decides what <paramref name="member"/> does, from the store's view and what it is doing itself.</summary>
    /// <param name="member">This member's id.</param>
    /// <param name="view">The live members and the owners of leased partitions, as the store just returned them.</param>
    /// <param name="partitions">The number of partitions.</param>
    /// <param name="consuming">The partitions this member consumes now.</param>
    /// <param name="held">
    /// The partitions this member holds and does not consume yet (its subscription failed, or waited for a renewal):
    /// consumed again while their lease is kept, and lost like consumed ones.
    /// </param>
    /// <param name="draining">The partitions this member is giving up (still leased until their deliveries settle).</param>
    /// <returns>The plan.</returns>
    public static PartitionPlan Plan(string member, PartitionLeaseView view, int partitions, IReadOnlySet<int> consuming, IReadOnlySet<int> held, IReadOnlySet<int> draining)
    {
        var members = view.Members.Contains(member, StringComparer.Ordinal)
            ? view.Members.Order(StringComparer.Ordinal).ToArray()
            : view.Members.Append(member).Order(StringComparer.Ordinal).ToArray();
        var index = Array.IndexOf(members, member);
        var share = Share(partitions, members.Length, index);
        bool IsHome(int partition) => partition % members.Length == index;

        var owned = new SortedSet<int>(view.Owners.Where(o => o.Key < partitions && string.Equals(o.Value, member, StringComparison.Ordinal)).Select(o => o.Key));
        var lost = consuming.Union(held).Where(p => !owned.Contains(p) && !draining.Contains(p)).Order().ToArray();
        var kept = owned.Where(p => !draining.Contains(p)).ToList();

        int[] release = [];
        int[] acquire = [];
        if (kept.Count > share)
        {
            // Give up the partitions that are someone else's home first, the highest numbers first.
            release = [.. kept.OrderBy(p => IsHome(p) ? 1 : 0).ThenByDescending(p => p).Take(kept.Count - share).Order()];
        }
        else if (kept.Count < share)
        {
            acquire = [.. Enumerable.Range(0, partitions)
                .Where(p => !view.Owners.ContainsKey(p) && !draining.Contains(p))
                .OrderBy(p => IsHome(p) ? 0 : 1)
                .ThenBy(p => p)
                .Take(share - kept.Count)];
        }

        var consume = kept.Where(p => !consuming.Contains(p) && !release.Contains(p)).ToArray();
        return new PartitionPlan(share, members.Length, acquire, release, consume, lost);
    }
}
