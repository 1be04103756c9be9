using System.Globalization;
using System.Security;
using System.Text;

namespace GpuNet.Models;

/// <summary>One box of a <see cref="ModelDiagram"/>: a layer (or the input) with its text, placed in pixels (y downwards).</summary>
/// <param name="Lines">The title line first ("dense_1 (Dense, relu)"), then the shapes and parameter counts.</param>
public sealed record DiagramBox(IReadOnlyList<string> Lines, double X, double Y, double Width, double Height);

/// <summary>
/// Keras' <c>plot_model(model, show_shapes=True)</c>: the input and each layer as a box, top to bottom, with the output
/// shapes and parameter counts, joined by arrows. <see cref="ToSvg"/> draws it; <c>gpunet plot-model</c> also draws it as PNG.
/// </summary>
public sealed class ModelDiagram
{
    /// <summary>Font size of every line, in pixels; the layout assumes a monospace font (7.2 px per character at 12 px).</summary>
    public const double FontSize = 12, CharWidth = 7.2, LineHeight = 18, Padding = 10, Gap = 28, Margin = 16;

    internal ModelDiagram(IReadOnlyList<IReadOnlyList<string>> boxes)
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
        Width = width + 2 * Margin;
        Height = y - Gap + Margin;
    }

    /// <summary>The boxes, input first, in drawing coordinates (pixels, y downwards).</summary>
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
            sb.AppendLine($"  <rect x=\"{F(b.X)}\" y=\"{F(b.Y)}\" width=\"{F(b.Width)}\" height=\"{F(b.Height)}\" rx=\"4\" fill=\"{(i == 0 ? "#eef3fb" : "#f7f7f7")}\" stroke=\"#444\"/>");
            for (int l = 0; l < b.Lines.Count; l++)
            {
                double baseline = b.Y + Padding + (l + 1) * LineHeight - 5;
                string weight = l == 0 ? " font-weight=\"bold\"" : "";
                sb.AppendLine($"  <text x=\"{F(b.X + Padding)}\" y=\"{F(baseline)}\" font-family=\"monospace\" font-size=\"{F(FontSize)}\"{weight}>{SecurityElement.Escape(b.Lines[l])}</text>");
            }
            if (i + 1 < Boxes.Count)
            {
                double x = b.X + b.Width / 2;
                sb.AppendLine($"  <line x1=\"{F(x)}\" y1=\"{F(b.Y + b.Height)}\" x2=\"{F(x)}\" y2=\"{F(Boxes[i + 1].Y - 1)}\" stroke=\"#444\" marker-end=\"url(#arrow)\"/>");
            }
        }
        sb.AppendLine("</svg>");
        return sb.ToString();
    }
}
