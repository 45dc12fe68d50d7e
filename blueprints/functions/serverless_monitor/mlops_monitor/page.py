"""A monitoring report as one self-contained HTML page: inline SVG charts, no script, no fetch.

Violations come first, each naming its feature; then one card per feature, violated features
first and the rest by p-value, with the baseline's and the window's distributions side by
side (numbers: the share of values in each of the baseline's histogram bins; strings: the
share of each value) and the test, statistic and p-value. ``mlops drift --html`` and the
serverless monitor (beside ``report.json``) write the same page from the same report.
"""

from __future__ import annotations

from html import escape
from typing import Any

BASELINE_COLOUR = "#9aa5b1"
WINDOW_COLOUR = "#d9480f"
WIDTH, HEIGHT, PAD = 560, 170, 34

STYLE = """
body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:24px;color:#1f2933;max-width:1240px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px} h3{font-size:16px;margin:0 0 4px}
.meta{color:#52606d;margin-bottom:12px} .ok{color:#2b8a3e} .bad{color:#c92a2a} .none{color:#a61e4d}
table{border-collapse:collapse;margin:6px 0} td,th{border-bottom:1px solid #e4e7eb;padding:4px 10px;text-align:left}
.cards{display:flex;flex-wrap:wrap;gap:14px} .card{border:1px solid #d9e2ec;border-radius:6px;padding:12px;width:580px}
.card.violated{border-color:#c92a2a;border-width:2px} .legend span{display:inline-block;width:10px;height:10px;
margin:0 4px 0 10px} .test{font-family:ui-monospace,monospace;font-size:13px;color:#3e4c59}
"""


def render(report: dict[str, Any], title: str = "Data quality and drift") -> str:
    """The page for a report of :func:`mlops_monitor.quality.check` (model-quality metrics included)."""
    violations = report.get("violations", [])
    violated = {v["feature_name"] for v in violations}
    status = report.get("status", "")
    css = {"ok": "ok", "violations": "bad"}.get(status, "none")
    where = " · ".join(escape(str(report[k])) for k in ("endpoint", "window_start", "monitor_type") if report.get(k))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f'<h1>{escape(title)}: <span class="{css}" id="status">{escape(status)}</span></h1>',
        f'<div class="meta">{where + " · " if where else ""}{report.get("records", 0)} records checked of '
        f"{report.get('lines', 0)} lines, {report.get('malformed', 0)} malformed · "
        f"family-wise alpha {report.get('alpha', '')}</div>",
    ]
    if report.get("message"):
        parts.append(f'<p class="none" id="message">{escape(str(report["message"]))}</p>')
    parts.append(f'<h2 id="violations">Violations ({len(violations)})</h2>')
    if violations:
        parts.append("<table><tr><th>feature</th><th>check</th><th>description</th></tr>")
        for v in violations:
            name = str(v["feature_name"])
            parts.append(
                f'<tr class="violation"><td><a href="#feature-{escape(name)}">{escape(name)}</a></td>'
                f"<td>{escape(str(v['constraint_check_type']))}</td><td>{escape(str(v['description']))}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>None.</p>")
    quality = report.get("model_quality", {})
    if quality.get("metrics"):
        parts.append("<h2>Model quality</h2><table><tr><th>metric</th><th>value</th></tr>")
        for name, value in sorted(quality["metrics"].items()):
            parts.append(f"<tr><td>{escape(name)}</td><td>{value:.6g}</td></tr>")
        parts.append("</table>")
    features = report.get("features", {})
    if features:
        parts.append(
            '<h2>Features</h2><div class="legend">baseline<span style="background:'
            f'{BASELINE_COLOUR}"></span> window<span style="background:{WINDOW_COLOUR}"></span></div>'
        )
        parts.append('<div class="cards">')
        for name in sorted(features, key=lambda n: (n not in violated, _p_value(features[n]), n)):
            parts.append(_card(name, features[name], name in violated))
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _p_value(summary: dict[str, Any]) -> float:
    return float(summary.get("drift", {}).get("p_value", 2.0))


def _card(name: str, summary: dict[str, Any], violated: bool) -> str:
    drift = summary.get("drift")
    if drift:
        test = {"ks": "two-sample Kolmogorov-Smirnov", "chi_square": "chi-square test of homogeneity"}.get(
            drift["test"], drift["test"]
        )
        result = f"{test}: statistic {drift['statistic']:.4f}, p-value {drift['p_value']:.3g}"
    else:
        result = "no drift test (no value present in the window)"
    chart = ""
    if "histogram" in summary:
        chart = _histogram(name, summary["histogram"])
    elif "frequencies" in summary:
        chart = _frequencies(name, summary["frequencies"])
    flag = ' <span class="bad">violated</span>' if violated else ""
    return (
        f'<div class="card{" violated" if violated else ""}" id="feature-{escape(name)}">'
        f"<h3>{escape(name)} <small>({escape(summary.get('inferred_type', ''))})</small>{flag}</h3>"
        f'<div class="test">{escape(result)} · completeness {summary.get("completeness", 1.0):.3f}</div>'
        f"{chart}</div>"
    )


def _shares(counts: list[int]) -> list[float]:
    total = sum(counts)
    return [c / total if total else 0.0 for c in counts]


def _bars(name: str, labels: list[str], base: list[float], window: list[float], axis: list[str]) -> str:
    """Grouped bars, baseline then window, for each label; ``axis`` names the ends and the middle."""
    n = max(len(labels), 1)
    top = max([*base, *window, 1e-9])
    slot = (WIDTH - 2 * PAD) / n
    bar = max(slot * 0.42, 0.8)
    scale = (HEIGHT - 2 * PAD) / top
    out = [
        f'<svg class="chart" data-feature="{escape(name)}" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(name)}: baseline and window">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#52606d"/>',
        f'<text x="4" y="{PAD - 8}" font-size="11" fill="#52606d">{top:.0%} share</text>',
    ]
    for i, label in enumerate(labels):
        x = PAD + i * slot
        for offset, value, colour, kind in ((0.0, base[i], BASELINE_COLOUR, "baseline"),
                                            (bar, window[i], WINDOW_COLOUR, "window")):  # fmt: skip
            height = value * scale
            out.append(
                f'<rect class="{kind}" x="{x + offset + slot * 0.08:.2f}" y="{HEIGHT - PAD - height:.2f}" '
                f'width="{bar:.2f}" height="{height:.2f}" fill="{colour}"><title>{escape(label)}: {kind} '
                f"{value:.2%}</title></rect>"
            )
    for position, text in zip((PAD, WIDTH / 2, WIDTH - PAD), axis, strict=False):
        anchor = "start" if position == PAD else ("end" if position == WIDTH - PAD else "middle")
        out.append(
            f'<text x="{position:.0f}" y="{HEIGHT - PAD + 16}" font-size="11" text-anchor="{anchor}" '
            f'fill="#52606d">{escape(text)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _histogram(name: str, histogram: dict[str, Any]) -> str:
    edges = [float(e) for e in histogram["edges"]]
    labels = []
    for i in range(len(edges) + 1):
        low = f"{edges[i - 1]:.4g}" if i else "-inf"
        high = f"{edges[i]:.4g}" if i < len(edges) else "inf"
        labels.append(f"({low}, {high}]")
    axis = [f"≤ {edges[0]:.4g}", f"{edges[len(edges) // 2]:.4g}", f"> {edges[-1]:.4g}"] if edges else ["", "", ""]
    note = '<div class="test">bins at the baseline\'s quantiles: a baseline bar per bin, even by construction</div>'
    return _bars(name, labels, _shares(histogram["baseline"]), _shares(histogram["window"]), axis) + note


def _frequencies(name: str, frequencies: dict[str, Any]) -> str:
    base, window = frequencies["baseline"], frequencies["window"]
    labels = list(base)
    chart = _bars(name, labels, _shares([base[v] for v in labels]), _shares([window[v] for v in labels]), ["", "", ""])
    rows = "".join(
        f"<tr><td>{escape(v)}</td><td>{share_b:.1%}</td><td>{share_w:.1%}</td></tr>"
        for v, share_b, share_w in zip(
            labels, _shares([base[v] for v in labels]), _shares([window[v] for v in labels]), strict=True
        )
    )
    more = frequencies.get("categories", len(labels)) - len(labels)
    extra = f'<div class="test">and {more} rarer values</div>' if more > 0 else ""
    return f"{chart}<table><tr><th>value</th><th>baseline</th><th>window</th></tr>{rows}</table>{extra}"
