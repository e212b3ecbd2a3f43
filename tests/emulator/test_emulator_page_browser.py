"""The emulator page in a real browser: headless Debian Chromium (installed
by `make browser`; without it this test fails saying so) loads the page of
an emulator serving HTTP that received known points (a late one, a batch
whose acknowledgement was lost and that was sent again, a dataport without
alias, an activated device), reads what it renders, and checks the numbers
against the emulator's store: ISO times, chart axes (min, max, time span),
lag, duplicate marks, devices and their activation state. It also checks
what only a browser can tell: the marks and labels are visible and the
axis labels sit inside their chart without overlapping."""

import datetime
import re

import pytest

from chromium import Chromium
from emulator_helpers import CIK, T0
from uonep.errors import TransportError
from uonep_host import Client
from uonep_host.emulator import page

# What the page shows, as Chromium renders it (innerText: the visible text).
READ_PAGE = r"""(() => {
  // SVG elements have no innerText: their textContent is what they draw
  const text = (element) => element ? (element.innerText ?? element.textContent).trim() : null;
  const box = (element) => {
    const r = element.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
  };
  const cells = (row, names) => Object.fromEntries(names.map((name) =>
      [name, text(row.querySelector("td." + name))]));
  return {
    now: text(document.getElementById("now")),
    html: document.documentElement.outerHTML,
    devices: [...document.querySelectorAll("#devices tr.device")].map((row) =>
        [...row.cells].map(text)),
    dataports: [...document.querySelectorAll("tr.dataport")].map((row) => {
      const chart = row.querySelector("svg.chart");
      const labels = chart ? Object.fromEntries(["y-min", "y-max", "x-first", "x-last"].map(
          (name) => [name, {text: text(chart.querySelector("text." + name)),
                            box: box(chart.querySelector("text." + name))}])) : null;
      return {rid: row.dataset.rid, label: text(row.querySelector("td.label b")),
              count: text(row.querySelector("td.count")),
              latest: text(row.querySelector("td.latest")),
              chart: chart ? box(chart) : null, labels: labels};
    }),
    clients: Object.fromEntries([...document.querySelectorAll("section.client")].map(
        (section) => [section.id.slice(7), [...section.querySelectorAll(
            ":scope > table.arrivals tr.point")].map((row) => {
          const badge = row.querySelector("td.mark .badge");
          return Object.assign({request: row.dataset.request,
              late: row.querySelector("td.lag").classList.contains("late"),
              badge: badge ? {background: getComputedStyle(badge).backgroundColor,
                              box: box(badge)} : null,
              background: getComputedStyle(row.querySelector("td.sample")).backgroundColor},
            cells(row, ["dataport", "sample", "arrived", "lag", "value", "mark"]));
        })])),
  };
})()"""

ISO = "%Y-%m-%dT%H:%M:%SZ"
STATES = {(1, 1): "activated", (1, 0): "waiting for activation",
          (0, 0): "disabled (activation refused)", (0, 1): "activated"}


def seconds(iso_text):
    """Unix seconds from the page's ISO UTC text."""
    moment = datetime.datetime.strptime(iso_text, ISO).replace(tzinfo=datetime.timezone.utc)
    return int(moment.timestamp())


def lag_seconds(lag_text):
    """Seconds from a lag as the page shows it ("1 h 2 min 5 s", "-5 s")."""
    match = re.fullmatch(r"(-?)((?:\d+ (?:d|h|min) )*)(\d+) s", lag_text)
    assert match, "not a lag: %r" % lag_text
    size = {"d": 86400, "h": 3600, "min": 60}
    total = int(match.group(3)) + sum(int(count) * size[unit] for count, unit in
                                      re.findall(r"(\d+) (d|h|min)", match.group(2)))
    return -total if match.group(1) else total


def inside(inner, outer):
    return (inner["left"] >= outer["left"] - 0.5 and inner["right"] <= outer["right"] + 0.5
            and inner["top"] >= outer["top"] - 0.5 and inner["bottom"] <= outer["bottom"] + 0.5)


@pytest.fixture
def fed(served):
    """The served emulator after a device's session of store and forward."""
    client = Client(CIK, served.url, timeout=5)
    client.recordbatch("temp", [[T0 - 7200, 19.25], [T0 - 60, 20.5]])   # two hours late
    served.set_clock(advance=40)
    batch = [[T0 + 30, 3], [T0 + 35, 8]]
    served.faults.arm("drop_after_body")                 # stored, but the answer is lost
    with pytest.raises(TransportError):
        client.recordbatch("count", batch)
    served.set_clock(advance=45)
    client.recordbatch("count", batch + [[T0 + 80, -2]])   # sent again: two duplicates
    bare = client.create_dataport("float")
    client.recordbatch(bare, [[T0 + 70, 0.125]])
    client.write("status", "running")
    served.session().post("/provision/activate",
                          data={"vendor": "acme", "model": "m1", "sn": "0001"})
    return served


def test_page_in_chromium_matches_the_store(fed, tmp_path):
    with Chromium() as browser:
        browser.open(fed.url + "/")
        shown = browser.evaluate(READ_PAGE)
        shot = tmp_path / "emulator-page.png"
        browser.screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20000
    store = fed.store
    with store.lock:
        assert seconds(shown["now"]) == fed.clock.now() == T0 + 85
        _check_devices(store, shown["devices"])
        _check_dataports(store, shown["dataports"])
        _check_arrivals(store, fed.rid(CIK), shown["clients"][fed.rid(CIK)])
    for secret in (CIK, "2" * 40, "3" * 40):
        assert secret not in shown["html"]


def _check_devices(store, rows):
    devices = store.devices()
    assert [row[:3] for row in rows] == [[d["vendor"], d["model"], d["sn"]] for d in devices]
    for row, device in zip(rows, devices):
        assert row[3] == STATES[device["enabled"], device["activated"]]
        assert row[4] == device["cik"][:4] + "\u2026"
        client = store.client_by_cik(device["cik"])
        assert row[5] == (client["description"]["name"] if device["activated"] else "-")
    assert [row[3] for row in rows] == ["activated", "disabled (activation refused)"]


def _check_dataports(store, rows):
    charted = 0
    for row in rows:
        rid = row["rid"]
        count, _, last, _ = store.point_stats(rid)
        assert int(row["count"]) == count
        if not count:
            continue
        value, _, moment = row["latest"].rpartition(" at ")
        assert [seconds(moment), value] == [last, str(store.latest_point(rid)[1])]
        aliases = store.aliases_of(rid)
        name = store.resource(rid)["description"].get("name")
        assert row["label"] == (", ".join(aliases) if aliases else name or rid[:8] + "\u2026")
        numeric = [p for p in store.latest_points(rid, page.CHART_POINTS)
                   if isinstance(p[1], (int, float))]
        if not numeric:
            assert row["chart"] is None
            continue
        charted += 1
        labels = row["labels"]
        values = [p[1] for p in numeric]
        assert float(labels["y-min"]["text"]) == pytest.approx(min(values), rel=1e-5)
        assert float(labels["y-max"]["text"]) == pytest.approx(max(values), rel=1e-5)
        assert seconds(labels["x-first"]["text"]) == numeric[0][0]
        assert seconds(labels["x-last"]["text"]) == numeric[-1][0]
        # rendered: every label inside its chart, max above min, first left of last
        for label in labels.values():
            assert inside(label["box"], row["chart"]), label
        assert labels["y-max"]["box"]["bottom"] <= labels["y-min"]["box"]["top"]
        assert labels["x-first"]["box"]["right"] < labels["x-last"]["box"]["left"]
    assert charted == 3                       # temp, count and the dataport without alias
    assert any(row["label"].endswith("\u2026") for row in rows)


def _check_arrivals(store, client, rows):
    logged = [(request, point) for request in store.arrivals.recent(client)
              for point in request["points"]]
    assert len(rows) == len(logged) == 9
    for row, (request, point) in zip(rows, logged):
        assert int(row["request"]) == request["request"]
        assert seconds(row["sample"]) == point["ts"]
        assert seconds(row["arrived"]) == point["arrived"]
        assert lag_seconds(row["lag"]) == point["arrived"] - point["ts"]
        assert row["late"] == (point["arrived"] - point["ts"] > page.LATE_SECONDS)
        assert row["value"] == str(point["value"])
        assert row["mark"] == ("" if point["seen"] == "new" else point["seen"])
        if point["seen"] == "duplicate":      # visibly marked: a red badge, a tinted row
            assert row["badge"]["background"] == "rgb(204, 0, 0)"
            assert row["badge"]["box"]["right"] > row["badge"]["box"]["left"]
            assert row["background"] != "rgba(0, 0, 0, 0)"
        else:
            assert row["badge"] is None and row["background"] == "rgba(0, 0, 0, 0)"
    marks = [(seconds(row["sample"]) - T0, row["mark"]) for row in rows]
    assert marks.count((30, "duplicate")) == marks.count((35, "duplicate")) == 1
    assert [row["lag"] for row in rows if row["late"]] == ["2 h 0 min 0 s"]
