"""Charts drawn on the server as inline SVG: no script, no map tiles, prints as it shows."""

import math

from markupsafe import Markup, escape

KLASS_COLOURS = {"A": "#1f6feb", "B": "#2da44e", "C": "#d4a017", "D": "#b3261e"}
KLASS_DASHES = {"A": "", "B": "6 3", "C": "2 3", "D": "8 3 2 3"}  # tell lines apart in grey


def trend_svg(labels: list[str], series: dict[str, list[float | None]], title: str) -> Markup:
    """Coverage % by month, one line per class; a gap where a class had no household.
    Drawn small (480 wide) with large type, so it stays readable scaled down on a phone."""
    width, height, left, right, top, bottom = 480, 250, 44, 12, 34, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(labels) - 1, 1)

    def x(i):
        return left + i * step

    def y(value):
        return top + plot_h * (1 - value)

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#ddd"/><text x="{left - 6}" y="{y(tick) + 5:.1f}" text-anchor="end" '
            f'font-size="14">{int(tick * 100)}%</text>'
        )
    for i, label in enumerate(labels):
        if len(labels) > 8 and i % 2:
            continue  # every other month: twelve labels do not fit a phone
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - bottom + 20}" text-anchor="middle" '
            f'font-size="14">{escape(label)}</text>'
        )
    for n, (klass, values) in enumerate(series.items()):
        parts.extend(_line(klass, values, x, y))
        lx = left + n * 70  # the legend is a row above the plot
        parts.append(
            f'<line x1="{lx}" x2="{lx + 30}" y1="12" y2="12" stroke="{KLASS_COLOURS[klass]}" '
            f'stroke-width="3" stroke-dasharray="{KLASS_DASHES[klass]}"/>'
            f'<text x="{lx + 36}" y="17" font-size="15">{escape(klass)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _line(klass: str, values, x, y) -> list[str]:
    """A polyline per run of known values, and a dot on each value."""
    runs, current = [], []
    for i, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((x(i), y(min(value, 1))))
    if current:
        runs.append(current)
    colour, dash = KLASS_COLOURS[klass], KLASS_DASHES[klass]
    parts = []
    for run in runs:
        points = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" '
            f'stroke-dasharray="{dash}" points="{points}"/>'
        )
        parts.extend(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>' for px, py in run
        )
    return parts


def map_svg(households: list[dict], visits: list[dict], title: str) -> Markup:
    """Households (squares) and visit fixes (dots) of a village on a plain projection."""
    points = [(p["lat"], p["lon"]) for p in households + visits]
    width, height, pad = 640, 480, 24
    if not points:
        return Markup("")
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    span_lat = max(max(lats) - min(lats), 0.002)
    span_lon = max(max(lons) - min(lons), 0.002)
    # Keep distances true: a degree of longitude is shorter than one of latitude here.
    squeeze = math.cos(math.radians(sum(lats) / len(lats)))
    scale = min((width - 2 * pad) / (span_lon * squeeze), (height - 2 * pad) / span_lat)

    def xy(lat, lon):
        return pad + (lon - min(lons)) * squeeze * scale, pad + (max(lats) - lat) * scale

    parts = [
        f'<svg class="map" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="#fafafa" stroke="#ccc"/>',
    ]
    for visit in visits:
        cx, cy = xy(visit["lat"], visit["lon"])
        colour = "#b3261e" if visit.get("flagged") else "#1f6feb"
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{colour}" fill-opacity=".7">'
            f"<title>{escape(visit['label'])}</title></circle>"
        )
    for household in households:
        cx, cy = xy(household["lat"], household["lon"])
        parts.append(
            f'<rect x="{cx - 5:.1f}" y="{cy - 5:.1f}" width="10" height="10" fill="none" '
            f'stroke="#1a1a1a" stroke-width="1.5">'
            f"<title>{escape(household['label'])}</title></rect>"
        )
    parts.append(_scale_bar(scale, squeeze, width, height, pad))
    parts.append("</svg>")
    return Markup("".join(parts))


def _scale_bar(scale, squeeze, width, height, pad) -> str:
    metres_per_px = 111_320 / scale
    metres = next(m for m in (50, 100, 200, 500, 1000, 2000, 5000, 10000) if m / metres_per_px > 40)
    length = metres / metres_per_px
    x0, y0 = width - pad - length, height - pad / 2
    label = f"{metres // 1000} km" if metres >= 1000 else f"{metres} m"
    return (
        f'<line x1="{x0:.1f}" x2="{width - pad}" y1="{y0}" y2="{y0}" stroke="#1a1a1a" '
        f'stroke-width="2"/><text x="{x0:.1f}" y="{y0 - 4}" font-size="11">{label}</text>'
    )
