namespace GpuNet.Backends;

/// <summary>The host-side check of <see cref="IBackend.CopyColumns"/>'s arguments, shared by every backend.</summary>
public static class ColumnBlock
{
    /// <summary>Throws unless the block of <paramref name="cols"/> columns lies inside the rows of both matrices.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size or offset is negative, or the block runs past a row.</exception>
    public static void Check(int xCols, int xOffset, int yCols, int yOffset, int rows, int cols)
    {
        if (rows < 0 || cols < 0 || xOffset < 0 || yOffset < 0 || xOffset + cols > xCols || yOffset + cols > yCols)
            throw new ArgumentOutOfRangeException(nameof(cols),
                $"CopyColumns: {cols} columns from offset {xOffset} of rows {xCols} wide into offset {yOffset} of rows {yCols} wide, {rows} rows: " +
                "the block must fit inside both rows, with non-negative sizes and offsets.");
    }
}
