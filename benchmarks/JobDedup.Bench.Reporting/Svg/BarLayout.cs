namespace JobDedup.Bench.Reporting.Svg;

/// <summary>
/// Where a horizontal bar chart puts its rows: row labels right-aligned at <see cref="LabelRight"/>, bars starting at a
/// column's left edge and at most <see cref="BarMax"/> long, one row every <see cref="RowHeight"/>.
/// </summary>
/// <param name="LabelRight">The right edge of the row labels.</param>
/// <param name="BarMax">The length of the longest bar.</param>
/// <param name="RowHeight">The distance from one row to the next.</param>
/// <param name="BarHeight">The thickness of a bar.</param>
public sealed record BarLayout(double LabelRight, double BarMax, double RowHeight, double BarHeight)
{
    /// <summary>Writes a row's label, in bold for the rows the chart is about.</summary>
    public void Label(SvgDocument svg, double y, string label, bool emphasised)
    {
        ArgumentNullException.ThrowIfNull(svg);
        svg.Text(LabelRight, y + BarHeight - 2, label, "text-anchor=\"end\"" + (emphasised ? " font-weight=\"bold\"" : string.Empty));
    }

    /// <summary>Draws a row's bar in the column starting at <paramref name="left"/>, <paramref name="fraction"/> of the longest, with its value after it.</summary>
    public void Bar(SvgDocument svg, double left, double y, double fraction, string color, string value)
    {
        ArgumentNullException.ThrowIfNull(svg);
        svg.Bar(left, y, fraction, BarMax, BarHeight, color, value);
    }
}
