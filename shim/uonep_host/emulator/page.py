"""GET /: a read-only HTML page of what the emulator holds, for a developer
of a store-and-forward device.

- the server time; every time on the page in ISO 8601 UTC
  (2023-11-14T22:13:20Z);
- the devices that can be activated, with their state (activated, waiting
  for activation, disabled) and the client activation made;
- per client: its CIK (masked) and CIK status, its dataports (alias, or
  name, or RID prefix when it has neither), the latest value, and a chart
  of the newest CHART_POINTS numeric points with axes: the minimum and
  maximum value on the y axis, the first and last sample time on the x
  axis;
- per client, the recent write requests from the arrival log
  (arrivals.py): each point's sample time, arrival time (server clock) and
  lag (arrival minus sample time; "late" past LATE_SECONDS), duplicates
  (the same point had already arrived: a resend after a lost
  acknowledgement) and replaced points marked.

No script, no external resource: inline CSS and SVG only. CIKs appear
masked, every stored string is escaped.
"""

import time
from html import escape

from .access import mask

CHART_POINTS = 100
# points shown per request of the arrival log (all its kept requests are shown)
SHOWN_POINTS = 20
# a point whose lag is longer than this is marked late
LATE_SECONDS = 60
# the chart: its size, and the margins that hold the axis labels
WIDTH, HEIGHT = 440, 150
LEFT, RIGHT, TOP, BOTTOM = 70, 12, 10, 34
TEXT_CUT = 60

DEVICE_STATES = {"activated": "activated", "waiting": "waiting for activation",
                 "disabled": "disabled (activation refused)"}

STYLE = """body{font-family:sans-serif;margin:1em;color:#222}
table{border-collapse:collapse;margin:.3em 0}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
.client{margin:1em 0 1em 1em;border-left:3px solid #ddd;padding-left:.8em}
.rid{color:#777;font-size:.85em}svg.chart{background:#fafafa}
svg text{font-size:10px;fill:#444}.axis{stroke:#888;stroke-width:1}.grid{stroke:#e4e4e4}
.badge{display:inline-block;padding:0 5px;border-radius:3px;font-size:.85em;font-weight:bold}
.duplicate .badge{background:#c00;color:#fff}.replaced .badge{background:#e80;color:#fff}
tr.duplicate td:not(.request),tr.replaced td:not(.request){background:#fff0f0}
td.late{color:#b00;font-weight:bold}
.state-activated{color:#070}.state-waiting{color:#a60}.state-disabled{color:#999}"""


def render(store, now):
    """The page as a str (call with the store lock held)."""
    parts = ["<!DOCTYPE html><html><head><meta charset=\"utf-8\">",
             "<title>uonep One Platform emulator</title><style>", STYLE, "</style></head><body>",
             "<h1>One Platform emulator</h1><p>Server time <span id=\"now\">%s</span>. "
             "Times are UTC; lag is arrival time minus sample time.</p>" % stamp(now)]
    _devices(store, parts)
    parts.append("<h2>Clients</h2>")
    clients = store.top_clients()
    if not clients:
        parts.append("<p>No clients.</p>")
    for rid in clients:
        _client(store, rid, None, parts)
    parts.append("</body></html>")
    return "".join(parts)


# -- formatting -------------------------------------------------------------------

def iso(timestamp):
    """Unix seconds as ISO 8601 UTC, "2023-11-14T22:13:20Z" ("N s" when
    it is beyond what a calendar date can show)."""
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
    except (OverflowError, OSError, ValueError):
        return "%d s" % timestamp


def stamp(timestamp):
    """A <time> element showing `timestamp` in ISO UTC."""
    text = iso(timestamp)
    return "<time datetime=\"%s\" data-ts=\"%d\">%s</time>" % (text, timestamp, text)


def lag(seconds):
    """A duration as "2 h 3 min 5 s" (days, hours, minutes, seconds; the
    leading units only as far as needed; a minus sign when negative)."""
    sign = "-" if seconds < 0 else ""
    left = abs(seconds)
    units = []
    for name, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if left >= size or units:
            units.append("%d %s" % (left // size, name))
            left %= size
    units.append("%d s" % left)
    return sign + " ".join(units)


def number(value):
    """A number as an axis label: whole numbers in full, others to 6 digits."""
    return str(value) if isinstance(value, int) else "%.6g" % value


def text(value):
    """A stored value as a table shows it (long strings cut)."""
    shown = str(value)
    return shown if len(shown) <= TEXT_CUT else shown[:TEXT_CUT] + "\u2026"


def label(store, rid, resource=None):
    """What a dataport is called on the page: its alias, else its name, else
    the first 8 characters of its RID."""
    aliases = store.aliases_of(rid)
    if aliases:
        return ", ".join(aliases)
    found = resource or store.resource(rid)
    name = found["description"].get("name") if found else None
    return str(name) if name else rid[:8] + "\u2026"


# -- devices ----------------------------------------------------------------------

def _devices(store, parts):
    devices = store.devices()
    parts.append("<h2>Devices</h2>")
    if not devices:
        parts.append("<p>No devices.</p>")
        return
    parts.append("<table id=\"devices\"><tr><th>Vendor</th><th>Model</th><th>Serial</th>"
                 "<th>State</th><th>CIK</th><th>Client</th></tr>")
    for device in devices:
        state = ("activated" if device["activated"] else
                 "waiting" if device["enabled"] else "disabled")
        client = store.client_by_cik(device["cik"]) if device["activated"] else None
        parts.append("<tr class=\"device\"><td>%s</td><td>%s</td><td>%s</td>"
                     "<td class=\"state state-%s\">%s</td><td>%s</td><td>%s</td></tr>" % (
                         escape(device["vendor"]), escape(device["model"]), escape(device["sn"]),
                         state, DEVICE_STATES[state], escape(mask(device["cik"])),
                         _client_link(client)))
    parts.append("</table>")


def _client_link(client):
    if client is None:
        return "-"
    return "<a href=\"#client-%s\">%s</a>" % (escape(client["rid"]), _client_name(client))


def _client_name(client):
    return escape(str(client["description"].get("name") or "(unnamed)"))


# -- clients and dataports --------------------------------------------------------

def _client(store, rid, owner, parts):
    client = store.resource(rid)
    names = store.aliases_of(rid) if owner else []
    parts.append("<section class=\"client\" id=\"client-%s\"><h3>Client %s</h3>"
                 "<p>CIK %s (<span class=\"cik-status\">%s</span>), RID %s%s</p>" % (
                     escape(rid), _client_name(client), escape(mask(client["cik"])),
                     escape(client["status"]), escape(rid),
                     (", alias " + escape(", ".join(names))) if names else ""))
    dataports = store.children(rid, "dataport")
    if dataports:
        parts.append("<table class=\"dataports\"><tr><th>Dataport</th><th>Format</th>"
                     "<th>Points</th><th>Latest</th><th>Chart (newest %d)</th></tr>"
                     % CHART_POINTS)
        for dataport in dataports:
            _dataport(store, dataport, parts)
        parts.append("</table>")
    _arrivals(store, rid, parts)
    for child in store.children(rid, "client"):
        _client(store, child, rid, parts)
    parts.append("</section>")


def _dataport(store, rid, parts):
    dataport = store.resource(rid)
    description = dataport["description"]
    name = description.get("name")
    shown = label(store, rid, dataport)
    subtitle = ("<br><span class=\"rid\">%s</span>" % escape(str(name))
                if name and str(name) != shown else "")
    count = store.point_stats(rid)[0]
    recent = store.latest_points(rid, CHART_POINTS)
    latest = ("<span class=\"value\">%s</span> at %s" % (escape(text(recent[-1][1])),
                                                         stamp(recent[-1][0]))
              if recent else "-")
    parts.append("<tr class=\"dataport\" data-rid=\"%s\"><td class=\"label\" title=\"RID %s\">"
                 "<b>%s</b>%s</td><td>%s</td><td class=\"count\">%d</td>"
                 "<td class=\"latest\">%s</td><td>%s</td></tr>" % (
                     escape(rid), escape(rid), escape(shown), subtitle,
                     escape(str(description.get("format"))), count, latest, chart(recent)))


# -- the chart --------------------------------------------------------------------

def chart(points):
    """An inline SVG chart of the numeric points with axes: min and max
    value on the y axis, first and last sample time on the x axis (a note
    when there is no numeric point)."""
    numeric = [(ts, value) for ts, value in points
               if isinstance(value, (int, float)) and not isinstance(value, bool)]
    if not numeric:
        return "<span class=\"no-chart\">%s</span>" % ("no numeric points" if points
                                                        else "no points")
    first, last = numeric[0][0], numeric[-1][0]
    low = min(value for _, value in numeric)
    high = max(value for _, value in numeric)
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM

    def x(ts):
        return LEFT + ((ts - first) * (right - LEFT) / (last - first) if last > first
                       else (right - LEFT) / 2)

    def y(value):
        return bottom - ((value - low) * (bottom - TOP) / (high - low) if high > low
                         else (bottom - TOP) / 2)

    coordinates = " ".join("%.1f,%.1f" % (x(ts), y(value)) for ts, value in numeric)
    return "".join((
        "<svg class=\"chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">"
        % (WIDTH, HEIGHT, WIDTH, HEIGHT),
        "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>" % (LEFT, TOP, right, TOP),
        "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
        % (LEFT, TOP, LEFT, bottom),
        "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
        % (LEFT, bottom, right, bottom),
        "<text class=\"y-max\" x=\"%d\" y=\"%d\" text-anchor=\"end\""
        " dominant-baseline=\"hanging\">%s</text>" % (LEFT - 4, TOP, escape(number(high))),
        "<text class=\"y-min\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>"
        % (LEFT - 4, bottom, escape(number(low))),
        "<text class=\"x-first\" x=\"%d\" y=\"%d\">%s</text>" % (LEFT, HEIGHT - 18, iso(first)),
        "<text class=\"x-last\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>"
        % (right, HEIGHT - 18, iso(last)),
        "<polyline fill=\"none\" stroke=\"#06c\" stroke-width=\"1.5\" points=\"%s\"/>"
        % coordinates,
        "".join("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"#06c\"/>" % (x(ts), y(value))
                for ts, value in numeric),
        "<text class=\"summary\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">"
        "min %s, max %s, %d point%s</text>" % (
            (LEFT + right) // 2, HEIGHT - 4, escape(number(low)), escape(number(high)),
            len(numeric), "" if len(numeric) == 1 else "s"),
        "</svg>"))


# -- the arrival log --------------------------------------------------------------

def _arrivals(store, client, parts):
    requests = store.arrivals.recent(client, SHOWN_POINTS)
    if not requests:
        return
    parts.append("<h4>Recent write requests (newest first)</h4><table class=\"arrivals\">"
                 "<tr><th>Request</th><th>Dataport</th><th>Sample time</th><th>Arrived</th>"
                 "<th>Lag</th><th>Value</th><th>Mark</th></tr>")
    labels = {}
    for request in requests:
        _request(store, request, labels, parts)
    parts.append("</table>")


def _request(store, request, labels, parts):
    points = request["points"]
    hidden = request["count"] - len(points)
    marks = "".join(", <b>%d %s</b>" % (request[key], key if request[key] > 1 else single)
                    for key, single in (("duplicates", "duplicate"), ("replaced", "replaced"))
                    if request[key])
    head = "<td rowspan=\"%d\" class=\"request\">#%d %s<br>%d point%s%s</td>" % (
        len(points) + (hidden > 0), request["request"], escape(request["calls"] or "-"),
        request["count"], "" if request["count"] == 1 else "s", marks)
    for index, point in enumerate(points):
        if point["rid"] not in labels:
            labels[point["rid"]] = label(store, point["rid"])
        parts.append(_point_row(point, labels[point["rid"]], head if index == 0 else "",
                                request["request"]))
    if hidden:
        parts.append("<tr><td colspan=\"6\">\u2026 and %d more points</td></tr>" % hidden)


def _point_row(point, name, head, request_number):
    delay = point["arrived"] - point["ts"]
    mark = ("<span class=\"badge\">%s</span>" % point["seen"]
            if point["seen"] != "new" else "")
    return ("<tr class=\"point %s\" data-request=\"%d\">%s<td class=\"dataport\">%s</td>"
            "<td class=\"sample\">%s</td><td class=\"arrived\">%s</td>"
            "<td class=\"lag%s\" data-seconds=\"%d\">%s</td><td class=\"value\">%s</td>"
            "<td class=\"mark\">%s</td></tr>" % (
                point["seen"], request_number, head, escape(name), stamp(point["ts"]),
                stamp(point["arrived"]), " late" if delay > LATE_SECONDS else "", delay,
                lag(delay), escape(text(point["value"])), mark))
