namespace JobDedup.RabbitMq.Partitions;

/// <summary>What one member does after a renewal, decided by <see cref="PartitionAssignment.Plan"/>.</summary>
/// <param name="Share">How many partitions this member should hold.</param>
/// <param name="Members">How many live members the share was computed among, this one included.</param>
/// <param name="Acquire">Free partitions to take a lease on (and then consume).</param>
/// <param name="Release">Held partitions to give up: stop consuming, let their deliveries settle, then release.</param>
/// <param name="Consume">Held partitions not consumed yet.</param>
/// <param name="Lost">Partitions this member consumes whose lease the store no longer gives it: stop consuming at once.</param>
internal sealed record PartitionPlan(int Share, int Members, int[] Acquire, int[] Release, int[] Consume, int[] Lost)
{
    /// <summary>Gets a value indicating whether the plan changes nothing.</summary>
    public bool IsSteady => Acquire.Length == 0 && Release.Length == 0 && Consume.Length == 0 && Lost.Length == 0;
}
