namespace JobDedup.Benchmarks.Suites;

/// <summary>How many times the work ran in each operation of one benchmark (count, total, least, most) and how long a run took.</summary>
public sealed class HandlerRunTally
{
    private readonly Lock _sync = new();
    private TimeSpan _workDuration;

    public long Operations { get; private set; }

    public long Runs { get; private set; }

    public int Min { get; private set; } = int.MaxValue;

    public int Max { get; private set; }

    public double PerOperation => Operations == 0 ? 0 : (double)Runs / Operations;

    /// <summary>Gets the mean time one run of the work took, over every operation.</summary>
    public TimeSpan WorkDuration => Operations == 0 ? TimeSpan.Zero : _workDuration / Operations;

    public void Add(int runs, TimeSpan workDuration)
    {
        lock (_sync)
        {
            Operations++;
            Runs += runs;
            _workDuration += workDuration;
            Min = Math.Min(Min, runs);
            Max = Math.Max(Max, runs);
        }
    }
}
