using System.Text;
using JobDedup.Bench.Reporting.Markdown;

namespace JobDedup.Bench.Reporting.Targets;

/// <summary>Writes target checks as a page's "## Targets" table with a pass or miss per target, and for the console.</summary>
public static class TargetReport
{
    /// <summary>The word for a verdict, as the page and the console write it.</summary>
    public static string Verdict(TargetCheck check) => check?.Met == true ? "pass" : "miss";

    /// <summary>Appends "## Targets": a table of every target with its verdict, then what is known about each miss.</summary>
    public static void AppendMarkdown(StringBuilder md, IReadOnlyList<TargetCheck> checks)
    {
        ArgumentNullException.ThrowIfNull(md);
        ArgumentNullException.ThrowIfNull(checks);
        md.Append("## Targets\n\n");
        var passed = checks.Count(c => c.Met);
        md.Append(Format.Invariant($"{passed} of {checks.Count} targets pass in this run.\n\n"));
        MarkdownTable.Append(md, ["target", "wanted", "measured", "verdict"], checks.Select(c => new[] { c.Name, c.Wanted, c.Measured, c.Met ? "pass" : "**miss**" }));
        var explained = checks.Where(c => !c.Met && c.Why is not null).ToList();
        if (explained.Count > 0)
        {
            md.Append("Each missed target, from the runs compared:\n\n");
            foreach (var check in explained)
            {
                md.Append(Format.Invariant($"- **{check.Name}** ({check.Measured}): {check.Why}\n"));
            }

            md.Append('\n');
        }
    }

    /// <summary>Writes one line per target (and its explanation when missed) for the console.</summary>
    public static void WriteConsole(TextWriter output, IReadOnlyList<TargetCheck> checks)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(checks);
        output.WriteLine("targets:");
        foreach (var check in checks)
        {
            output.WriteLine(Format.Invariant($"  {(check.Met ? "pass" : "MISS")}  {check.Name}: {check.Measured} (wanted {check.Wanted})"));
            if (!check.Met && check.Why is { } why)
            {
                output.WriteLine("        " + why);
            }
        }
    }
}
