using System.Globalization;
using GpuNet.Layers;

namespace GpuNet.Cli;

/// <summary>One hidden item of <c>--layers</c>: a Dense or Maxout layer, a Dropout or a BatchNormalization.</summary>
internal abstract record LayerSpec
{
    /// <summary>A fully connected layer; a null <paramref name="Activation"/> takes <c>--activation</c>.</summary>
    public sealed record DenseLayer(int Units, ActivationSpec? Activation) : LayerSpec;

    public sealed record DropoutLayer(float Rate) : LayerSpec;

    public sealed record BatchNormLayer : LayerSpec;

    internal const string Syntax =
        "items separated by commas: WIDTH or WIDTH:ACTIVATION (e.g. 128:relu, 64:leaky_relu:0.1, 64:elu:0.5, 100:maxout:3), " +
        "dropout:RATE, batchnorm; for example --layers 128:relu,dropout:0.3,64:leaky_relu:0.1";

    /// <summary>
    /// Parses <c>--layers</c>: plain widths (<c>128,64</c>), or a layer spec such as
    /// <c>128:relu,dropout:0.3,64:leaky_relu:0.1,batchnorm</c>; "none" (or empty) for no hidden layer.
    /// </summary>
    /// <exception cref="ArgumentException">An item is not understood; the message names it and shows the syntax.</exception>
    public static LayerSpec[] Parse(string text)
    {
        if (text.Trim() is "" or "none") return [];
        var items = text.Split(',', StringSplitOptions.TrimEntries);
        var specs = new LayerSpec[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            var parts = items[i].Split(':', StringSplitOptions.TrimEntries);
            string head = parts[0].ToLowerInvariant();
            specs[i] = head switch
            {
                "dropout" when parts.Length == 2 && TryNumber(parts[1], out float rate) && rate >= 0 && rate < 1 => new DropoutLayer(rate),
                "dropout" => throw Bad(text, items[i], "dropout takes a rate in [0, 1), for example dropout:0.3"),
                "batchnorm" or "batch_normalization" or "bn" when parts.Length == 1 => new BatchNormLayer(),
                _ when int.TryParse(head, NumberStyles.None, CultureInfo.InvariantCulture, out int units) && units >= 1 =>
                    new DenseLayer(units, parts.Length == 1 ? null : ActivationSpec.Parse(string.Join(':', parts[1..]), $"--layers item '{items[i]}'")),
                _ => throw Bad(text, items[i], "it is not a positive width, dropout:RATE or batchnorm"),
            };
        }
        return specs;
    }

    private static ArgumentException Bad(string text, string item, string why) =>
        new($"--layers '{text}': '{item}' is not understood ({why}). Give {Syntax}.");

    internal static bool TryNumber(string text, out float value) =>
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && float.IsFinite(value);
}

/// <summary>
/// An activation as the command line writes it: a name (<c>relu</c>), a name with its alpha (<c>leaky_relu:0.1</c>,
/// <c>elu:0.5</c>), or <c>maxout:K</c>, which makes the layer a Maxout layer of K pieces per unit.
/// </summary>
internal sealed record ActivationSpec(Activation? Activation, int MaxoutPieces)
{
    public bool IsMaxout => MaxoutPieces > 0;

    /// <exception cref="ArgumentException">Unknown name or a bad parameter; the message names <paramref name="where"/>.</exception>
    public static ActivationSpec Parse(string text, string where)
    {
        var parts = text.Split(':', StringSplitOptions.TrimEntries);
        string name = parts[0].ToLowerInvariant().Replace('-', '_');
        if (name == "maxout")
        {
            if (parts.Length == 2 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int k) && k >= 2)
                return new ActivationSpec(null, k);
            throw new ArgumentException($"{where}: maxout takes the number of pieces per unit, an integer >= 2, for example maxout:3.");
        }
        if (parts.Length > 2)
            throw new ArgumentException($"{where}: '{text}' has too many ':' parts. Give NAME or NAME:ALPHA, for example leaky_relu:0.1.");
        if (parts.Length == 1)
        {
            try { return new ActivationSpec(Activation.Parse(name), 0); }
            catch (ArgumentException e) { throw new ArgumentException($"{where}: {e.Message.Split(" (Parameter")[0]} Or maxout:K.", e); }
        }
        if (!LayerSpec.TryNumber(parts[1], out float alpha))
            throw new ArgumentException($"{where}: alpha '{parts[1]}' is not a number. For example leaky_relu:0.1 or elu:1.0.");
        try
        {
            return name switch
            {
                "leaky_relu" or "leakyrelu" => new ActivationSpec(Activation.LeakyRelu(alpha), 0),
                "elu" => new ActivationSpec(Activation.Elu(alpha), 0),
                _ => throw new ArgumentException($"{where}: '{parts[0]}' takes no parameter; only leaky_relu:ALPHA, elu:ALPHA and maxout:K do."),
            };
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ArgumentException($"{where}: {e.Message.Split(" (Parameter")[0].Split(Environment.NewLine)[0]}", e);
        }
    }

    public override string ToString() => IsMaxout ? $"maxout:{MaxoutPieces}" : Activation!.ToString();
}
