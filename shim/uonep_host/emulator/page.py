"""GET /: a read-only HTML overview of clients and dataports with a small
SVG chart per dataport. CIKs appear masked, every stored string is escaped."""

from html import escape

from .access import mask

CHART_POINTS = 100
WIDTH, HEIGHT = 300, 60

STYLE = """body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}.client{margin:1em 0 1em 1em}
svg{background:#f8f8f8}"""


def render(store, now):
    """The page as a str (call with the store lock held)."""
    parts = ["<!DOCTYPE html><html><head><meta charset=\"utf-8\">",
             "<title>uonep One Platform emulator</title><style>", STYLE, "</style></head><body>",
             "<h1>One Platform emulator</h1><p>Server time: %d</p>" % now]
    clients = store.top_clients()
    if not clients:
        parts.append("<p>No clients.</p>")
    for rid in clients:
        _client(store, rid, None, parts)
    parts.append("</body></html>")
    return "".join(parts)


def _client(store, rid, owner, parts):
    client = store.resource(rid)
    names = store.aliases_of(rid) if owner else []
    parts.append("<div class=\"client\"><h2>Client %s</h2><p>CIK %s, RID %s%s</p>" % (
        escape(client["description"].get("name") or "(unnamed)"), escape(mask(client["cik"])),
        escape(rid), (", alias " + escape(", ".join(names))) if names else ""))
    dataports = store.children(rid, "dataport")
    if dataports:
        parts.append("<table><tr><th>Alias</th><th>Name</th><th>Format</th><th>Points</th>"
                     "<th>Latest</th><th>Chart</th></tr>")
        for dataport in dataports:
            _dataport(store, dataport, parts)
        parts.append("</table>")
    for child in store.children(rid, "client"):
        _client(store, child, rid, parts)
    parts.append("</div>")


def _dataport(store, rid, parts):
    dataport = store.resource(rid)
    description = dataport["description"]
    count = store.point_stats(rid)[0]
    recent = store.latest_points(rid, CHART_POINTS)
    latest = "%d: %s" % (recent[-1][0], recent[-1][1]) if recent else "-"
    parts.append("<tr><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%s</td><td>%s</td></tr>" % (
        escape(", ".join(store.aliases_of(rid))), escape(str(description.get("name", ""))),
        escape(str(description.get("format"))), count, escape(latest), chart(recent)))


def chart(points):
    """An inline SVG polyline of the numeric points ("" when fewer than 2)."""
    numeric = [(ts, value) for ts, value in points
               if isinstance(value, (int, float)) and not isinstance(value, bool)]
    if len(numeric) < 2:
        return ""
    first, last = numeric[0][0], numeric[-1][0]
    low = min(value for _, value in numeric)
    high = max(value for _, value in numeric)
    span_time = (last - first) or 1
    span_value = (high - low) or 1
    coordinates = " ".join(
        "%.1f,%.1f" % ((ts - first) * (WIDTH - 4) / span_time + 2,
                       HEIGHT - 2 - (value - low) * (HEIGHT - 4) / span_value)
        for ts, value in numeric)
    return ("<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">"
            "<polyline fill=\"none\" stroke=\"#06c\" stroke-width=\"1.5\" points=\"%s\"/></svg>"
            % (WIDTH, HEIGHT, WIDTH, HEIGHT, coordinates))
