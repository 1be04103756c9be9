using System.Xml.Linq;
using GpuNet.Layers;
using GpuNet.Models;
using GpuNet.Plotting;
using Xunit;

namespace GpuNet.Tests;

/// <summary>Keras' plot_model: the diagram's content and layout, its SVG, and <c>gpunet plot-model</c> as PNG and SVG.</summary>
public sealed class ModelDiagramTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-diagram-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Sequential Model() => new(
        new Dense(8, "relu", name: "hidden"), new BatchNormalization(name: "bn"), new Dense(3, "softmax", name: "out<&>"));

    [Fact]
    public void TheDiagramShowsTheInputAndEachLayerWithShapesAndCountsInBoxesThatDoNotOverlap()
    {
        using var model = Model();
        model.GetLayer("hidden").Trainable = false;
        var d = model.Diagram(6);
        Assert.Equal(4, d.Boxes.Count);
        Assert.Equal(["input (InputLayer)", "output: (None, 6)"], d.Boxes[0].Lines);
        // hidden: 6*8 + 8 = 56 (frozen); bn: 8 gamma + 8 beta + 16 moving statistics = 32; out: 8*3 + 3 = 27
        Assert.Equal(["hidden (Dense, relu)", "(None, 6) -> (None, 8)", "params: 56 (frozen)"], d.Boxes[1].Lines);
        Assert.Equal("params: 32 (16 non-trainable)", d.Boxes[2].Lines[2]);
        Assert.Equal("(None, 8) -> (None, 3)", d.Boxes[3].Lines[1]);
        for (int i = 1; i < d.Boxes.Count; i++) Assert.True(d.Boxes[i].Y > d.Boxes[i - 1].Y + d.Boxes[i - 1].Height);
        // every line fits its box at the layout's monospace character width
        Assert.All(d.Boxes, b => Assert.All(b.Lines, l => Assert.True(l.Length * ModelDiagram.CharWidth <= b.Width - 2 * ModelDiagram.Padding)));
        Assert.True(d.Boxes[^1].Y + d.Boxes[^1].Height < d.Height);

        var e = Assert.Throws<InvalidOperationException>(() => model.Diagram());
        Assert.Contains("Diagram(inputSize)", e.Message);
    }

    [Fact]
    public void PlotModelWritesWellFormedSvgAndAPngOfTheDiagramsSize()
    {
        using var model = Model();
        string path = Path.Combine(_folder, "model.svg");
        model.PlotModel(path, inputSize: 6);
        var svg = XDocument.Load(path); // well-formed, with the layer name's <&> escaped
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(1 + 4, svg.Descendants(ns + "rect").Count()); // the background and four boxes
        Assert.Equal(3, svg.Descendants(ns + "polyline").Count()); // an arrow between each pair
        Assert.Contains(svg.Descendants(ns + "text"), t => t.Value == "out<&> (Dense, softmax)");

        // PNG from the API too (GpuNet.Plotting): as wide and tall as the diagram
        string png = Path.Combine(_folder, "model.png");
        model.PlotModel(png, 6);
        var bytes = File.ReadAllBytes(png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        var d = model.Diagram(6);
        Assert.Equal(((int)Math.Ceiling(d.Width), (int)Math.Ceiling(d.Height)),
            (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20))));

        var e = Assert.Throws<ArgumentException>(() => model.PlotModel(Path.Combine(_folder, "model.jpg"), 6));
        Assert.Contains("'model.png'", e.Message);
        Assert.False(File.Exists(Path.Combine(_folder, "model.jpg")));
    }

    [Fact]
    public void AFunctionalModelsDiagramHasABoxPerLayerAndMergeAndAnArrowPerConnection()
    {
        var x = Functional.Input(6);
        var h = new Dense(8, "relu", name: "h").Apply(x);
        var a = new Dense(4, "relu", name: "left").Apply(h);
        var b = new Dense(4, "tanh", name: "right").Apply(h);
        using var model = Functional.Model(x, new Dense(3, "softmax", name: "out").Apply(Functional.Add(Functional.Concatenate(a, b), h)));
        var d = model.Diagram(6);
        // input, h, left, right, concatenate, add, out
        Assert.Equal(7, d.Boxes.Count);
        Assert.Equal(["concatenate_1 (Concatenate)", "(None, 4) + (None, 4) -> (None, 8)"], d.Boxes[4].Lines);
        Assert.Equal("add_2 (Add)", d.Boxes[5].Lines[0]);
        // input->h, h->left, h->right, left->concat, right->concat, concat->add, h->add, add->out
        Assert.Equal([(0, 1), (1, 2), (1, 3), (2, 4), (3, 4), (4, 5), (1, 5), (5, 6)], d.Arrows.Select(e => (e.From, e.To)));
        // arrows that skip boxes run beside them, each in its own lane inside the picture
        var skips = d.Arrows.Where(e => e.To != e.From + 1).ToList();
        Assert.Equal(3, skips.Count);
        Assert.Equal(3, skips.Select(e => e.Points[1].X).Distinct().Count());
        Assert.All(skips, e => Assert.True(e.Points[1].X > d.Boxes[0].X + d.Boxes[0].Width && e.Points[1].X < d.Width));

        string path = Path.Combine(_folder, "functional.png");
        model.PlotModel(path, 6);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(path)[..4]);
    }

    [Fact]
    public void ThePlotModelCommandDrawsASavedModelAsPngAndSvg()
    {
        string saved = Path.Combine(_folder, "m.safetensors"), png = Path.Combine(_folder, "m.png"), svg = Path.Combine(_folder, "m.svg");
        var (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "1", "--layers", "16", "--save", saved);
        Assert.True(code == 0, error);
        (code, var output, error) = TestData.RunCli("plot-model", "--model", saved, "--output", png);
        Assert.True(code == 0, error);
        Assert.Contains($"to {png}", output);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png)[..4]);
        (code, _, error) = TestData.RunCli("plot-model", "--model", saved, "--output", svg);
        Assert.True(code == 0, error);
        Assert.Contains("(None, 784) -&gt; (None, 16)", File.ReadAllText(svg));

        (code, _, error) = TestData.RunCli("plot-model", "--model", saved, "--output", Path.Combine(_folder, "m.jpg"));
        Assert.Equal(1, code);
        Assert.Contains("give a .png or .svg file", error);
    }
}
