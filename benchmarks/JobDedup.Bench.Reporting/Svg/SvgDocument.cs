using System.Security;
using System.Text;

namespace JobDedup.Bench.Reporting.Svg;

/// <summary>
/// A small SVG writer for the benchmark charts: text, rectangles, lines, polylines and labelled bars, in the invariant
/// culture, drawn in the order they are added (with <see cref="Underlay"/> drawn before everything else).
/// </summary>
public sealed class SvgDocument
{
    private readonly StringBuilder _body = new();
    private SvgDocument? _underlay;

    /// <summary>Gets a layer drawn under this one, for marks (target lines, grids) that bars and labels should cover.</summary>
    public SvgDocument Underlay => _underlay ??= new SvgDocument();

    /// <summary>Adds text at a baseline point; <paramref name="attributes"/> are written as given (e.g. <c>text-anchor="end"</c>).</summary>
    public SvgDocument Text(double x, double y, string text, string attributes = "")
    {
        _body.Append(Format.Invariant($"<text x=\"{x:0.#}\" y=\"{y:0.#}\"{Space(attributes)}>{SecurityElement.Escape(text)}</text>\n"));
        return this;
    }

    /// <summary>Adds a filled rectangle.</summary>
    public SvgDocument Rect(double x, double y, double width, double height, string fill, string attributes = "")
    {
        _body.Append(Format.Invariant($"<rect x=\"{x:0.#}\" y=\"{y:0.#}\" width=\"{width:0.#}\" height=\"{height:0.#}\" fill=\"{fill}\"{Space(attributes)}/>\n"));
        return this;
    }

    /// <summary>Adds a straight line.</summary>
    public SvgDocument Line(double x1, double y1, double x2, double y2, string stroke, string attributes = "")
    {
        _body.Append(Format.Invariant($"<line x1=\"{x1:0.#}\" y1=\"{y1:0.#}\" x2=\"{x2:0.#}\" y2=\"{y2:0.#}\" stroke=\"{stroke}\"{Space(attributes)}/>\n"));
        return this;
    }

    /// <summary>Adds an open line through the points.</summary>
    public SvgDocument Polyline(IEnumerable<(double X, double Y)> points, string stroke, string attributes = "")
    {
        ArgumentNullException.ThrowIfNull(points);
        var path = string.Join(' ', points.Select(p => Format.Invariant($"{p.X:0.#},{p.Y:0.#}")));
        _body.Append(Format.Invariant($"<polyline fill=\"none\" stroke=\"{stroke}\"{Space(attributes)} points=\"{path}\"/>\n"));
        return this;
    }

    /// <summary>Adds a horizontal bar <paramref name="fraction"/> of <paramref name="maxWidth"/> long (at least 1), with <paramref name="label"/> after its end.</summary>
    public SvgDocument Bar(double x, double y, double fraction, double maxWidth, double height, string color, string label)
    {
        var width = Math.Max(1, fraction * maxWidth);
        Rect(x, y, width, height, color);
        return Text(x + width + 6, y + height - 2, label);
    }

    /// <summary>Adds a legend entry: a colour square and its name.</summary>
    /// <returns>Where the next entry on the same line can start.</returns>
    public double Swatch(double x, double y, string color, string name)
    {
        Rect(x, y - 10, 12, 12, color);
        Text(x + 16, y, name);
        return x + 30 + (name.Length * 7);
    }

    /// <summary>The whole document, white background, with its underlay first.</summary>
    public string Render(double width, double height, string fontFamily = "DejaVu Sans, Arial, sans-serif", int fontSize = 12)
    {
        var svg = new StringBuilder();
        svg.Append(Format.Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:0.#}\" height=\"{height:0.#}\" viewBox=\"0 0 {width:0.#} {height:0.#}\" font-family=\"{fontFamily}\" font-size=\"{fontSize}\">\n"));
        svg.Append(Format.Invariant($"<rect width=\"{width:0.#}\" height=\"{height:0.#}\" fill=\"#ffffff\"/>\n"));
        if (_underlay is not null)
        {
            svg.Append(_underlay._body);
        }

        svg.Append(_body);
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string Space(string attributes) => attributes.Length == 0 ? string.Empty : " " + attributes;
}
