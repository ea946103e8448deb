using System.Globalization;
using System.Net;
using System.Text;

namespace QueryCache.Cli.Commands;

/// <summary>
/// <c>evaluate --report FILE.html</c>: one self-contained page (inline SVG, no script, nothing fetched) with the
/// false-hit rate and recall of every threshold, the similarity histograms of right and wrong pairs, and the learned
/// operating point beside the best static one.
/// </summary>
internal static class EvaluationReportPage
{
    private const int Width = 560;
    private const int Height = 340;
    private const int Margin = 44;

    // The legend's lines sit above the plot.
    private const int Top = 70;
    private const string Right = "#2b8a3e";
    private const string Wrong = "#c92a2a";
    private const string Plain = "#1c7ed6";
    private const string Guarded = "#5f3dc4";

    public static string Render(EvaluationReport report, EvaluationOptions options, string source)
    {
        var op = report.OperatingPoint;
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>QueryCache evaluation: {{Encode(source)}}</title>
            <style>
              body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1180px; color: #212529; }
              h1 { font-size: 1.5rem; margin-bottom: .2rem; } .sub { color: #666; margin-top: 0; }
              .cards { display: flex; gap: 1rem; margin: 1.2rem 0; } .card { flex: 1; border: 1px solid #dee2e6; border-radius: 8px; padding: .8rem 1rem; }
              .card h2 { font-size: 1rem; margin: 0 0 .4rem; } .big { font-size: 1.6rem; font-weight: 600; }
              .charts { display: flex; flex-wrap: wrap; gap: 1.5rem; } figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: .3rem; }
              svg text { font: 12px system-ui, sans-serif; fill: #495057; }
            </style></head><body>
            <h1>Which cached answers would be wrong?</h1>
            <p class="sub">{{Encode(source)}} · model {{Encode(report.Model)}} · {{report.Pairs}} pairs ({{report.Positives}} same answer, {{report.Negatives}} different) · accepted false-hit rate {{options.MaxFalseHitRate:P1}}</p>
            <div class="cards">
              <div class="card" id="learned"><h2>Learned decision ({{Encode(op.Mode)}}, {{(op.CrossValidated ? $"cross-validated, {op.Folds} folds" : "fitted on other pairs")}})</h2>
                <div class="big">recall {{op.Recall:F2}}</div>
                <div>{{op.Hits}} hits, {{op.FalseHits}} wrong: false-hit rate {{op.FalseHitRate:P1}}, at most {{op.FalseHitRateUpper95:P1}} with 95 % confidence</div></div>
              <div class="card" id="baseline"><h2>Best static threshold within {{options.MaxFalseHitRate:P1}}</h2>
            """);
        html.Append(report.Baseline is { } b
            ? string.Create(CultureInfo.InvariantCulture,
                $"<div class=\"big\">recall {b.Recall:F2}</div><div>threshold {b.Threshold:F2}{(b.Guard ? " with the guard" : "")}: {b.Hits} hits, {b.FalseHits} wrong ({b.FalseHitRate:P1})</div>")
            : "<div class=\"big\">none</div><div>no threshold keeps its false-hit rate that low</div>");
        html.Append("</div></div>\n<div class=\"charts\">\n");
        html.Append(Figure("False-hit rate and recall by threshold", ThresholdChart(report)));
        html.Append(Figure("Recall against false-hit rate", TradeOffChart(report, options.MaxFalseHitRate)));
        html.Append(Figure("Similarity of right and wrong pairs", Histogram(report)));
        html.Append("</div>\n</body></html>\n");
        return html.ToString();
    }

    private static string Figure(string caption, string svg) => $"<figure><figcaption>{Encode(caption)}</figcaption>{svg}</figure>\n";

    /// <summary>Lines of the false-hit rate and recall over the thresholds, with and without the guard.</summary>
    private static string ThresholdChart(EvaluationReport report)
    {
        var (x0, x1) = (CacheEvaluation.Thresholds[0], CacheEvaluation.Thresholds[^1]);
        double X(double t) => Margin + ((t - x0) / (x1 - x0) * (Width - (2 * Margin)));
        var svg = Frame("threshold", "rate", x0, x1);
        foreach (var (guard, color) in new[] { (false, Plain), (true, Guarded) })
        {
            var rows = report.Rows.Where(r => r.Guard == guard).ToList();
            svg.Append(Line(rows.Select(r => (X(r.Threshold), Y(r.FalseHitRate))), Wrong, guard ? "" : "6 4"));
            svg.Append(Line(rows.Select(r => (X(r.Threshold), Y(r.Recall))), color, guard ? "" : "6 4"));
        }

        svg.Append(Legend([(Wrong, "false-hit rate"), (Plain, "recall, no guard (dashed)"), (Guarded, "recall, guard")]));
        return svg.Append("</svg>").ToString();
    }

    /// <summary>Each threshold's (false-hit rate, recall), the learned operating point and the best static one.</summary>
    private static string TradeOffChart(EvaluationReport report, double accepted)
    {
        // The axis ends at the worst rate seen, rounded up to a tenth: the region that matters is near 0.
        var end = Math.Max(0.1, Math.Ceiling(report.Rows.Max(r => r.FalseHitRate) * 10) / 10);
        double X(double rate) => Margin + (rate / end * (Width - (2 * Margin)));
        var svg = Frame("false-hit rate", "recall", 0, end);
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{X(accepted):F1}\" y1=\"{Top}\" x2=\"{X(accepted):F1}\" y2=\"{Height - Margin}\" stroke=\"#adb5bd\" stroke-dasharray=\"3 3\"/>");
        foreach (var (guard, color) in new[] { (false, Plain), (true, Guarded) })
        {
            foreach (var row in report.Rows.Where(r => r.Guard == guard && r.Hits > 0))
            {
                svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(row.FalseHitRate):F1}\" cy=\"{Y(row.Recall):F1}\" r=\"3\" fill=\"{color}\" opacity=\".7\"/>");
            }
        }

        var op = report.OperatingPoint;
        svg.Append(CultureInfo.InvariantCulture,
            $"<rect x=\"{X(op.FalseHitRate) - 6:F1}\" y=\"{Y(op.Recall) - 6:F1}\" width=\"12\" height=\"12\" fill=\"{Right}\"><title>learned</title></rect>");
        if (report.Baseline is { } b)
        {
            svg.Append(CultureInfo.InvariantCulture,
                $"<circle cx=\"{X(b.FalseHitRate):F1}\" cy=\"{Y(b.Recall):F1}\" r=\"7\" fill=\"none\" stroke=\"#212529\" stroke-width=\"2\"><title>best static</title></circle>");
        }

        svg.Append(Legend([(Plain, "a threshold, no guard"), (Guarded, "a threshold, guard"), (Right, "learned decision (square)"), ("#212529", "best static (ring)")]));
        return svg.Append("</svg>").ToString();
    }

    /// <summary>How many right and wrong pairs fall in each similarity bin of 0.05.</summary>
    private static string Histogram(EvaluationReport report)
    {
        const int bins = 20;
        int Bin(double s) => Math.Clamp((int)(Math.Max(s, 0) * bins), 0, bins - 1);
        var right = new int[bins];
        var wrong = new int[bins];
        foreach (var pair in report.Scored)
        {
            (pair.Pair.SameAnswer ? right : wrong)[Bin(pair.Similarity)]++;
        }

        var top = Math.Max(1, Math.Max(right.Max(), wrong.Max()));
        var svg = Frame("similarity", "pairs", 0, 1, top);
        var step = (Width - (2.0 * Margin)) / bins;
        for (var i = 0; i < bins; i++)
        {
            foreach (var (counts, color, offset) in new[] { (right, Right, 0.0), (wrong, Wrong, step / 2) })
            {
                var h = (Height - Margin - Top) * (double)counts[i] / top;
                svg.Append(CultureInfo.InvariantCulture,
                    $"<rect x=\"{Margin + (i * step) + offset:F1}\" y=\"{Height - Margin - h:F1}\" width=\"{(step / 2) - 1:F1}\" height=\"{h:F1}\" fill=\"{color}\" opacity=\".8\"/>");
            }
        }

        svg.Append(Legend([(Right, "right (label 1)"), (Wrong, "wrong (label 0)")]));
        return svg.Append("</svg>").ToString();
    }

    private static double Y(double value) => Height - Margin - (value * (Height - Margin - Top));

    /// <summary>An SVG with its axes, five ticks on each and their labels.</summary>
    private static StringBuilder Frame(string xLabel, string yLabel, double x0, double x1, double yTop = 1)
    {
        var svg = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-label=\"{Encode(yLabel)} against {Encode(xLabel)}\">"));
        svg.Append(CultureInfo.InvariantCulture,
            $"<line x1=\"{Margin}\" y1=\"{Height - Margin}\" x2=\"{Width - Margin}\" y2=\"{Height - Margin}\" stroke=\"#868e96\"/><line x1=\"{Margin}\" y1=\"{Top}\" x2=\"{Margin}\" y2=\"{Height - Margin}\" stroke=\"#868e96\"/>");
        for (var i = 0; i <= 4; i++)
        {
            var fraction = i / 4.0;
            var x = Margin + (fraction * (Width - (2 * Margin)));
            var y = Y(fraction);
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x:F1}\" y=\"{Height - Margin + 16}\" text-anchor=\"middle\">{x0 + (fraction * (x1 - x0)):0.###}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Margin - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{fraction * yTop:0.##}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Margin}\" y1=\"{y:F1}\" x2=\"{Width - Margin}\" y2=\"{y:F1}\" stroke=\"#f1f3f5\"/>");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"{Height - 8}\" text-anchor=\"middle\">{Encode(xLabel)}</text>");
        return svg.Append(CultureInfo.InvariantCulture,
            $"<text x=\"12\" y=\"{Height / 2}\" transform=\"rotate(-90 12 {Height / 2})\" text-anchor=\"middle\">{Encode(yLabel)}</text>");
    }

    private static string Line(IEnumerable<(double X, double Y)> points, string color, string dash) =>
        string.Create(CultureInfo.InvariantCulture,
            $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\" points=\"{string.Join(' ', points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.X:F1},{p.Y:F1}")))}\"/>");

    private static string Legend(IReadOnlyList<(string Color, string Label)> items) => string.Concat(items.Select((item, i) => string.Create(CultureInfo.InvariantCulture,
        $"<rect x=\"{Margin + 8}\" y=\"{6 + (i * 14)}\" width=\"10\" height=\"10\" fill=\"{item.Color}\"/><text x=\"{Margin + 22}\" y=\"{15 + (i * 14)}\">{Encode(item.Label)}</text>")));

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
