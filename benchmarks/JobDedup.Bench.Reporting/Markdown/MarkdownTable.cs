using System.Text;

namespace JobDedup.Bench.Reporting.Markdown;

/// <summary>A GitHub markdown table: the first columns left-aligned, the numeric ones right-aligned, pipes in cells escaped.</summary>
public static class MarkdownTable
{
    /// <summary>Appends the table and a blank line after it.</summary>
    /// <param name="md">The page being written.</param>
    /// <param name="header">The column names.</param>
    /// <param name="rows">The cells, row by row.</param>
    /// <param name="numericFrom">The first right-aligned column; the columns before it are text.</param>
    public static void Append(StringBuilder md, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows, int numericFrom = 1)
    {
        ArgumentNullException.ThrowIfNull(md);
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        md.Append("| ").AppendJoin(" | ", header.Select(Escape)).Append(" |\n");
        md.Append('|').AppendJoin('|', header.Select((_, i) => i >= numericFrom ? " ---: " : " --- ")).Append("|\n");
        foreach (var row in rows)
        {
            md.Append("| ").AppendJoin(" | ", row.Select(Escape)).Append(" |\n");
        }

        md.Append('\n');
    }

    private static string Escape(string cell) => cell.Replace("|", "\\|", StringComparison.Ordinal);
}
