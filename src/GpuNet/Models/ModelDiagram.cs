using System.Globalization;
using System.Security;
using System.Text;

namespace GpuNet.Models;

/// <summary>One box of a <see cref="ModelDiagram"/>: a layer (or the input) with its text, placed in pixels (y downwards).</summary>
/// <param name="Lines">The title line first ("dense_1 (Dense, relu)"), then the shapes and parameter counts.</param>
public sealed record DiagramBox(IReadOnlyList<string> Lines, double X, double Y, double Width, double Height)
{
    /// <summary>True for an input's box (drawn in another colour): the model's input, or one of a functional model's inputs.</summary>
    public bool IsInput => Lines.Count > 0 && Lines[0].EndsWith("(InputLayer)", StringComparison.Ordinal);
}

/// <summary>An arrow of a <see cref="ModelDiagram"/> from box <paramref name="From"/> to box <paramref name="To"/>, as the
/// polyline to draw (pixels, y downwards; the arrowhead at the last point).</summary>
public sealed record DiagramArrow(int From, int To, IReadOnlyList<(double X, double Y)> Points);

/// <summary>
/// Keras' <c>plot_model(model, show_shapes=True)</c>: the input and each layer as a box, top to bottom, with the output
/// shapes and parameter counts, joined by arrows (a functional model's from each layer to those it feeds). <see cref="ToSvg"/> draws it; <c>gpunet plot-model</c> also draws it as PNG.
/// </summary>
public sealed class ModelDiagram
{
    /// <summary>Font size of every line, in pixels; the layout assumes a monospace font (7.2 px per character at 12 px).</summary>
    public const double FontSize = 12, CharWidth = 7.2, LineHeight = 18, Padding = 10, Gap = 28, Margin = 16;

    /// <param name="edges">Which box feeds which (a functional model's graph); null: each box the next, top to bottom.</param>
    internal ModelDiagram(IReadOnlyList<IReadOnlyList<string>> boxes, IReadOnlyList<(int From, int To)>? edges = null)
    {
        double width = boxes.Max(lines => lines.Max(l => l.Length)) * CharWidth + 2 * Padding;
        var placed = new List<DiagramBox>();
        double y = Margin;
        foreach (var lines in boxes)
        {
            double height = lines.Count * LineHeight + 2 * Padding;
            placed.Add(new DiagramBox(lines, Margin, y, width, height));
            y += height + Gap;
        }
        Boxes = placed;
        // an arrow to the next box runs straight down between them; one that skips boxes runs around their right side,
        // each in its own lane so that none overlaps another
        edges ??= [.. Enumerable.Range(0, boxes.Count - 1).Select(i => (i, i + 1))];
        var arrows = new List<DiagramArrow>();
        int lanes = 0;
        foreach (var (from, to) in edges)
        {
            var f = placed[from];
            var t = placed[to];
            if (to == from + 1)
            {
                double x = f.X + f.Width / 2;
                arrows.Add(new DiagramArrow(from, to, [(x, f.Y + f.Height), (x, t.Y - 1)]));
                continue;
            }
            double lane = f.X + f.Width + LaneGap * ++lanes;
            double y0 = f.Y + f.Height / 2, y1 = t.Y + t.Height / 2;
            arrows.Add(new DiagramArrow(from, to, [(f.X + f.Width, y0), (lane, y0), (lane, y1), (t.X + t.Width + 1, y1)]));
        }
        Arrows = arrows;
        Width = width + 2 * Margin + LaneGap * lanes;
        Height = y - Gap + Margin;
    }

    /// <summary>Pixels between the lanes of the arrows that skip boxes.</summary>
    public const double LaneGap = 14;

    /// <summary>The arrows, each from the box that feeds another to that box.</summary>
    public IReadOnlyList<DiagramArrow> Arrows { get; }

    /// <summary>The boxes, the input (a functional model's inputs) first, in drawing coordinates (pixels, y downwards).</summary>
    public IReadOnlyList<DiagramBox> Boxes { get; }

    public double Width { get; }
    public double Height { get; }

    /// <summary>The diagram as an SVG document: boxes, text (monospace) and arrows.</summary>
    public string ToSvg()
    {
        static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.AppendLine($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(Width)}\" height=\"{F(Height)}\" viewBox=\"0 0 {F(Width)} {F(Height)}\">");
        sb.AppendLine("  <defs><marker id=\"arrow\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"#444\"/></marker></defs>");
        sb.AppendLine($"  <rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        for (int i = 0; i < Boxes.Count; i++)
        {
            var b = Boxes[i];
            sb.AppendLine($"  <rect x=\"{F(b.X)}\" y=\"{F(b.Y)}\" width=\"{F(b.Width)}\" height=\"{F(b.Height)}\" rx=\"4\" fill=\"{(b.IsInput ? "#eef3fb" : "#f7f7f7")}\" stroke=\"#444\"/>");
            for (int l = 0; l < b.Lines.Count; l++)
            {
                double baseline = b.Y + Padding + (l + 1) * LineHeight - 5;
                string weight = l == 0 ? " font-weight=\"bold\"" : "";
                sb.AppendLine($"  <text x=\"{F(b.X + Padding)}\" y=\"{F(baseline)}\" font-family=\"monospace\" font-size=\"{F(FontSize)}\"{weight}>{SecurityElement.Escape(b.Lines[l])}</text>");
            }
        }
        foreach (var arrow in Arrows)
        {
            string points = string.Join(" ", arrow.Points.Select(p => $"{F(p.X)},{F(p.Y)}"));
            sb.AppendLine($"  <polyline points=\"{points}\" fill=\"none\" stroke=\"#444\" marker-end=\"url(#arrow)\"/>");
        }
        sb.AppendLine("</svg>");
        return sb.ToString();
    }
}
