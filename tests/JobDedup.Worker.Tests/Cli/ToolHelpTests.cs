using JobDedup.Worker.Cli;
using JobDedup.Worker.Tests.Support;

namespace JobDedup.Worker.Tests.Cli;

/// <summary>The help of the <c>jobdedup</c> command names it <c>jobdedup</c>, however it is started.</summary>
public sealed class ToolHelpTests
{
    [Fact]
    public async Task Help_RunAsDotnetOfTheWorkerDll_ShowsTheCommandAsJobdedup()
    {
        var help = await ToolProcess.RunAsync(["--help"]);

        Assert.True(help.ExitCode == 0, help.Error);
        Assert.Contains("Usage:\n  jobdedup [command] [options]", help.Output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("JobDedup.Worker", help.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_OfADeadLetterSubcommand_ShowsItsUsageUnderJobdedup()
    {
        var help = await ToolProcess.RunAsync(["dead-letters", "list", "--help"]);

        Assert.True(help.ExitCode == 0, help.Error);
        Assert.Contains("Usage:\n  jobdedup dead-letters list [options]", help.Output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("JobDedup.Worker", help.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public async Task RunAsync_HelpOption_PrintsUsageNamedJobdedupAndSucceeds(string option)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exitCode = await ToolCommandLine.RunAsync([option], output, error, TextReader.Null);

        Assert.Equal(0, exitCode);
        Assert.Contains($"  {ToolCommandLine.CommandName} [command] [options]", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("dead-letters", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(string.Empty, error.ToString());
    }

    [Fact]
    public async Task RunAsync_VersionOption_PrintsAVersionAndSucceeds()
    {
        using var output = new StringWriter();

        var exitCode = await ToolCommandLine.RunAsync(["--version"], output, TextWriter.Null, TextReader.Null);

        Assert.Equal(0, exitCode);
        Assert.Matches(@"^\d+\.\d+", output.ToString());
    }
}
