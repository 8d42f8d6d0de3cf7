using System.Text;

namespace JobDedup.Bench.Reporting.Text;

/// <summary>A fixed-width table for the console: the first column padded right, the others left, a rule under the header.</summary>
public static class TextTable
{
    /// <summary>Renders the header and rows, one line each.</summary>
    public static string Render(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        var all = new List<IReadOnlyList<string>> { header };
        all.AddRange(rows);
        var widths = Enumerable.Range(0, header.Count).Select(c => all.Max(r => c < r.Count ? r[c].Length : 0)).ToArray();
        var text = new StringBuilder();
        for (var i = 0; i < all.Count; i++)
        {
            var row = all[i];
            text.AppendLine(string.Join("  ", widths.Select((w, c) => c >= row.Count ? new string(' ', w) : c == 0 ? row[c].PadRight(w) : row[c].PadLeft(w))).TrimEnd());
            if (i == 0)
            {
                text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
            }
        }

        return text.ToString();
    }
}
