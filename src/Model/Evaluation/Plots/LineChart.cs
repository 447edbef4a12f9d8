using System.Globalization;
using SkiaSharp;

namespace ActorFace.Model.Evaluation.Plots;

/// <summary>One curve of a <see cref="LineChart"/>.</summary>
public sealed record ChartSeries(string Label, double[] X, double[] Y);

/// <summary>
/// Minimal SkiaSharp line chart (axes, ticks, legend, optional log-x) drawn into a rectangle of a canvas, enough for
/// ROC and accuracy-vs-threshold figures without a plotting dependency.
/// </summary>
public sealed class LineChart
{
    public string Title { get; init; } = "";
    public string XLabel { get; init; } = "";
    public string YLabel { get; init; } = "";
    public bool LogX { get; init; }
    public (double Min, double Max) XRange { get; init; } = (0, 1);
    public (double Min, double Max) YRange { get; init; } = (0, 1);
    public List<ChartSeries> Series { get; } = new();

    static readonly SKColor[] Palette =
    {
        new(31, 119, 180), new(255, 127, 14), new(44, 160, 44), new(214, 39, 40), new(148, 103, 189), new(140, 86, 75),
    };

    public void Draw(SKCanvas canvas, SKRect area)
    {
        var plot = new SKRect(area.Left + 70, area.Top + 40, area.Right - 20, area.Bottom - 55);
        using var font = new SKFont(SKTypeface.Default, 13);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var grid = new SKPaint { Color = new SKColor(220, 220, 220), StrokeWidth = 1 };
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1.5f, Style = SKPaintStyle.Stroke };

        double Tx(double x) => LogX
            ? (Math.Log10(Math.Max(x, XRange.Min)) - Math.Log10(XRange.Min)) / (Math.Log10(XRange.Max) - Math.Log10(XRange.Min))
            : (x - XRange.Min) / (XRange.Max - XRange.Min);
        float Px(double x) => plot.Left + (float)(Math.Clamp(Tx(x), 0, 1) * plot.Width);
        float Py(double y) => plot.Bottom - (float)(Math.Clamp((y - YRange.Min) / (YRange.Max - YRange.Min), 0, 1) * plot.Height);

        foreach (var (v, label) in XTicks())
        {
            canvas.DrawLine(Px(v), plot.Top, Px(v), plot.Bottom, grid);
            canvas.DrawText(label, Px(v), plot.Bottom + 18, SKTextAlign.Center, font, ink);
        }
        for (int i = 0; i <= 5; i++)
        {
            double v = YRange.Min + (YRange.Max - YRange.Min) * i / 5;
            canvas.DrawLine(plot.Left, Py(v), plot.Right, Py(v), grid);
            canvas.DrawText(v.ToString("0.###", CultureInfo.InvariantCulture), plot.Left - 6, Py(v) + 4, SKTextAlign.Right, font, ink);
        }
        canvas.DrawRect(plot, axis);
        canvas.DrawText(Title, plot.MidX, area.Top + 24, SKTextAlign.Center, font, ink);
        canvas.DrawText(XLabel, plot.MidX, area.Bottom - 15, SKTextAlign.Center, font, ink);
        canvas.Save();
        canvas.RotateDegrees(-90, area.Left + 18, plot.MidY);
        canvas.DrawText(YLabel, area.Left + 18, plot.MidY, SKTextAlign.Center, font, ink);
        canvas.Restore();

        for (int s = 0; s < Series.Count; s++)
        {
            var series = Series[s];
            using var pen = new SKPaint { Color = Palette[s % Palette.Length], StrokeWidth = 2, Style = SKPaintStyle.Stroke, IsAntialias = true };
            using var path = new SKPath();
            for (int i = 0; i < series.X.Length; i++)
            {
                if (double.IsNaN(series.X[i]) || double.IsNaN(series.Y[i])) continue;
                if (path.IsEmpty) path.MoveTo(Px(series.X[i]), Py(series.Y[i])); else path.LineTo(Px(series.X[i]), Py(series.Y[i]));
            }
            canvas.DrawPath(path, pen);
            float ly = plot.Bottom - 12 - 18 * (Series.Count - 1 - s);
            canvas.DrawLine(plot.Right - 190, ly - 4, plot.Right - 165, ly - 4, pen);
            canvas.DrawText(series.Label, plot.Right - 160, ly, SKTextAlign.Left, font, ink);
        }
    }

    IEnumerable<(double, string)> XTicks()
    {
        if (LogX)
        {
            for (int e = (int)Math.Ceiling(Math.Log10(XRange.Min)); e <= (int)Math.Floor(Math.Log10(XRange.Max)); e++)
                yield return (Math.Pow(10, e), $"1e{e}");
            yield break;
        }
        for (int i = 0; i <= 5; i++)
        {
            double v = XRange.Min + (XRange.Max - XRange.Min) * i / 5;
            yield return (v, v.ToString("0.###", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Renders charts side by side into one PNG file.</summary>
    public static void SavePng(string path, int panelWidth, int height, params LineChart[] charts)
    {
        var info = new SKImageInfo(panelWidth * charts.Length, height);
        using var surface = SKSurface.Create(info);
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        for (int i = 0; i < charts.Length; i++) charts[i].Draw(canvas, new SKRect(i * panelWidth, 0, (i + 1) * panelWidth, height));
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir != null) Directory.CreateDirectory(dir);
        using var file = File.Create(path);
        data.SaveTo(file);
    }
}
