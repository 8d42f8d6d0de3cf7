using System.Diagnostics;
using System.Globalization;
using Microsoft.Coyote;
using Microsoft.Coyote.Logging;
using Microsoft.Coyote.SystematicTesting;
using Xunit.Abstractions;

namespace JobDedup.Concurrency.Tests.Support;

/// <summary>
/// Runs one test body under Coyote's systematic testing engine: many iterations, each under a schedule the engine
/// picks from a fixed seed, so that a failure names the iteration and seed and leaves a trace that replays it.
/// </summary>
internal static class ScheduleExploration
{
    /// <summary>The iterations each test explores unless it says otherwise.</summary>
    public const uint Iterations = 1000;

    /// <summary>
    /// Explores <paramref name="test"/> and fails with the bug, the iteration, the seed, whether the recorded trace
    /// replays it, and where the traces were written.
    /// </summary>
    public static void Explore(ITestOutputHelper output, string name, uint seed, Func<Task> test, uint iterations = Iterations)
    {
        var configuration = Configuration.Create()
            .WithTestingIterations(iterations)
            .WithRandomGeneratorSeed(seed)
            .WithPotentialDeadlocksReportedAsBugs(true);
        var started = Stopwatch.GetTimestamp();
        using var log = new MemoryLogger(VerbosityLevel.Info);
        using var engine = TestingEngine.Create(configuration, test);
        engine.SetLogger(log);
        Assert.True(
            engine.IsTestRewritten(),
            "The test assembly was not rewritten by Coyote. Run scripts/test.sh, or after building: dotnet tool restore && " +
            "DOTNET_ROLL_FORWARD=Major dotnet coyote rewrite tests/JobDedup.Concurrency.Tests/bin/Release/net10.0/rewrite.coyote.json");

        uint lastStarted = 0;
        engine.RegisterStartIterationCallBack(iteration => lastStarted = iteration);
        engine.Run();
        var report = engine.TestReport;
        var explored = report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths;
        var elapsed = Stopwatch.GetElapsedTime(started);
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{name}: seed {seed}, {explored} of {iterations} iterations explored in {elapsed.TotalSeconds:F1} s, {report.NumOfFoundBugs} bug(s)"));
        if (report.UncontrolledInvocations.Count > 0)
        {
            output.WriteLine($"{name}: calls the engine does not control: {string.Join(", ", report.UncontrolledInvocations.Order(StringComparer.Ordinal))}");
        }

        if (report.NumOfFoundBugs == 0)
        {
            return;
        }

        var bug = string.Join(" | ", report.BugReports);
        var iteration = lastStarted + 1;
        var traces = WriteTraces(name, engine);
        var replay = Replay(configuration, engine.ReproducibleTrace, test, bug);
        output.WriteLine($"{name}: iteration {iteration} found: {bug}");
        output.WriteLine($"{name}: {replay}");
        output.WriteLine($"{name}: traces in {traces}");
        Assert.Fail(string.Create(
            CultureInfo.InvariantCulture,
            $"Coyote found a bug in {name} at iteration {iteration} of {iterations} (seed {seed}): {bug}. {replay}. Traces: {traces}"));
    }

    private static string WriteTraces(string name, TestingEngine engine)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "coyote-traces");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, name + ".trace.json"), engine.ReproducibleTrace ?? string.Empty);
        File.WriteAllText(Path.Combine(directory, name + ".log.txt"), engine.ReadableTrace ?? string.Empty);
        return Path.Combine(directory, name + ".*");
    }

    /// <summary>Runs the recorded schedule once more and says whether it ends in the same bug.</summary>
    private static string Replay(Configuration explored, string? trace, Func<Task> test, string bug)
    {
        if (string.IsNullOrEmpty(trace))
        {
            return "no reproducible trace was recorded";
        }

        var configuration = Configuration.Create()
            .WithTestingIterations(1)
            .WithRandomGeneratorSeed(explored.RandomGeneratorSeed ?? 0)
            .WithPotentialDeadlocksReportedAsBugs(true)
            .WithReproducibleTrace(trace);
        using var log = new MemoryLogger(VerbosityLevel.Info);
        using var replay = TestingEngine.Create(configuration, test);
        replay.SetLogger(log);
        replay.Run();
        var again = string.Join(" | ", replay.TestReport.BugReports);
        return replay.TestReport.NumOfFoundBugs == 0
            ? "replaying the recorded trace did not reproduce it (part of the run was outside the engine's control)"
            : again == bug ? "replaying the recorded trace reproduced it" : $"replaying the recorded trace found: {again}";
    }
}
