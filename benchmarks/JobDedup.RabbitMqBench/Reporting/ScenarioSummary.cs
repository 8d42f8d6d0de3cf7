using JobDedup.RabbitMqBench.Measuring;

namespace JobDedup.RabbitMqBench.Reporting;

/// <summary>A scenario over every measured round: its rate is the median of the rounds' rates.</summary>
internal sealed record ScenarioSummary(Scenario Scenario, IReadOnlyList<RunResult> Rounds)
{
    public bool Ok => Rounds.Count > 0 && Rounds.All(r => r.Ok);

    /// <summary>Gets the median rate (the mean of the two middle ones for an even count); 0 when a round failed.</summary>
    public double Rate
    {
        get
        {
            if (!Ok)
            {
                return 0;
            }

            var rates = Rounds.Select(r => r.MessagesPerSecond).Order().ToArray();
            return rates.Length % 2 == 1 ? rates[rates.Length / 2] : (rates[(rates.Length / 2) - 1] + rates[rates.Length / 2]) / 2;
        }
    }

    /// <summary>Gets the round whose rate is closest to the median, whose other measurements the table shows; or a failed round.</summary>
    public RunResult Median
    {
        get
        {
            if (Rounds.FirstOrDefault(r => !r.Ok) is { } failed)
            {
                return failed;
            }

            var rate = Rate;
            return Rounds.MinBy(r => Math.Abs(r.MessagesPerSecond - rate))!;
        }
    }

    public double MinRate => Ok ? Rounds.Min(r => r.MessagesPerSecond) : 0;

    public double MaxRate => Ok ? Rounds.Max(r => r.MessagesPerSecond) : 0;
}
