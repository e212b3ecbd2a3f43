"""The emulator page (GET /) through the in-process door: ISO UTC times,
charts with axes, devices and their activation state, dataport names, and
the arrival log (sample time, arrival time, lag, duplicates) checked
against the emulator's store. The same page in a real browser:
test_emulator_page_browser.py."""

import re
import threading
import time

import pytest
import requests

from emulator_helpers import CIK, T0, Rpc
from page_reader import read
from uonep_host.emulator import DEFAULT_SEED, Emulator, page
from uonep_host.emulator.arrivals import KEPT_REQUESTS

ISO_T0 = "2023-11-14T22:13:20Z"


def show(emu):
    """The page, read into elements."""
    answer = emu.session().get("/")
    assert answer.status_code == 200
    return read(answer.text)


def dataport_row(root, rid):
    return next(row for row in root.all("tr", "dataport") if row.attrs["data-rid"] == rid)


def point_rows(root, client_rid):
    return root.by_id("client-" + client_rid).one("table", "arrivals").all("tr", "point")


def test_formatting_helpers():
    assert page.iso(T0) == ISO_T0 and page.iso(0) == "1970-01-01T00:00:00Z"
    assert page.iso(2 ** 62) == "%d s" % 2 ** 62           # beyond the calendar: the number
    assert [page.lag(s) for s in (0, 59, 60, 3725, 7200, 90061, -5)] == [
        "0 s", "59 s", "1 min 0 s", "1 h 2 min 5 s", "2 h 0 min 0 s", "1 d 1 h 1 min 1 s",
        "-5 s"]
    assert [page.number(v) for v in (3, -4, 21.25, 0.1 + 0.2, 1e-9)] == [
        "3", "-4", "21.25", "0.3", "1e-09"]


def test_times_are_iso_utc_and_no_unix_seconds_are_shown(emu, rpc):
    rpc.ok("recordbatch", {"alias": "temp"}, [[T0 - 60, 20.5], [T0 - 1, 21.5]])
    root = show(emu)
    assert root.by_id("now").text == ISO_T0
    temp = dataport_row(root, emu.rid(CIK, "temp"))
    assert temp.one("td", "latest").text == "21.5 at 2023-11-14T22:13:19Z"
    shown = root.one("body").text
    assert not re.search(r"\b1\d{9}\b", shown), "a Unix time is shown as a number"
    for element in root.all("time"):           # every time: ISO text, the second in data-ts
        assert element.text == page.iso(int(element.attrs["data-ts"]))
        assert element.attrs["datetime"] == element.text


def test_chart_axes_show_min_max_and_the_time_span(emu, rpc):
    rpc.ok("recordbatch", {"alias": "count"}, [[T0 - 50, 3], [T0 - 40, 9], [T0 - 30, -4]])
    chart = dataport_row(show(emu), emu.rid(CIK, "count")).one("svg", "chart")
    assert chart.one("text", "y-max").text == "9" and chart.one("text", "y-min").text == "-4"
    assert chart.one("text", "x-first").text == page.iso(T0 - 50)
    assert chart.one("text", "x-last").text == page.iso(T0 - 30)
    assert chart.one("text", "summary").text == "min -4, max 9, 3 points"
    # the scale: the max at the top of the plot, the min at the bottom, time left to right
    circles = [(float(c.attrs["cx"]), float(c.attrs["cy"])) for c in chart.all("circle")]
    assert [round(y) for _, y in circles] == [
        round(page.HEIGHT - page.BOTTOM - 7 * (page.HEIGHT - page.BOTTOM - page.TOP) / 13),
        page.TOP, page.HEIGHT - page.BOTTOM]
    assert [round(x) for x, _ in circles] == [page.LEFT, (page.LEFT + page.WIDTH - page.RIGHT)
                                              // 2, page.WIDTH - page.RIGHT]
    axes = chart.all("line", "axis")
    assert len(axes) == 2


def test_chart_covers_the_newest_points_only(emu, rpc):
    stored = [[T0 - 200 + i, float(i)] for i in range(150)]
    rpc.ok("recordbatch", {"alias": "temp"}, stored)
    chart = dataport_row(show(emu), emu.rid(CIK, "temp")).one("svg", "chart")
    newest = stored[-page.CHART_POINTS:]
    assert chart.one("text", "summary").text == "min 50, max 149, %d points" % page.CHART_POINTS
    assert chart.one("text", "x-first").text == page.iso(newest[0][0])
    assert len(chart.all("circle")) == page.CHART_POINTS


def test_text_dataports_and_single_points(emu, rpc):
    rpc.ok("write", {"alias": "status"}, "ok")
    rpc.ok("write", {"alias": "temp"}, 7.5)
    root = show(emu)
    status = dataport_row(root, emu.rid(CIK, "status"))
    assert status.all("svg") == [] and status.one("span", "no-chart").text == "no numeric points"
    single = dataport_row(root, emu.rid(CIK, "temp")).one("svg", "chart")
    assert single.one("text", "y-min").text == single.one("text", "y-max").text == "7.5"
    assert single.one("text", "summary").text == "min 7.5, max 7.5, 1 point"
    assert dataport_row(root, emu.rid(CIK, "count")).one("span", "no-chart").text == "no points"


def test_dataports_without_alias_show_their_name_or_rid_prefix(emu, rpc):
    named = rpc.ok("create", "dataport", {"format": "float", "name": "Humidity"})
    bare = rpc.ok("create", "dataport", {"format": "integer"})
    root = show(emu)
    assert dataport_row(root, named).one("td", "label").text == "Humidity"
    assert dataport_row(root, bare).one("td", "label").text == bare[:8] + "\u2026"
    temp = dataport_row(root, emu.rid(CIK, "temp")).one("td", "label")
    assert temp.text == "temp Temperature" and temp.attrs["title"] == "RID " + emu.rid(CIK, "temp")


def device_states(root):
    return {tuple(cell.text for cell in row.all("td")[:3]): row.one("td", "state").text
            for row in root.by_id("devices").all("tr", "device")}


def test_devices_and_their_activation_state(emu):
    root = show(emu)
    assert device_states(root) == {("acme", "m1", "0001"): "waiting for activation",
                                   ("acme", "m1", "0002"): "disabled (activation refused)"}
    answer = emu.session().post("/provision/activate",
                                data={"vendor": "acme", "model": "m1", "sn": "0001"})
    assert answer.status_code == 200 and answer.text == "2" * 40
    root = show(emu)
    assert device_states(root)[("acme", "m1", "0001")] == "activated"
    row = root.by_id("devices").all("tr", "device")[0]
    cells = [cell.text for cell in row.all("td")]
    assert cells[4] == "2222\u2026" and cells[5] == "0001"          # masked CIK, its client
    client_rid = emu.rid("2" * 40)
    assert row.one("a").attrs["href"] == "#client-" + client_rid
    section = root.by_id("client-" + client_rid)
    assert section.one("span", "cik-status").text == "activated"
    html = emu.session().get("/").text
    assert "2" * 40 not in html and "3" * 40 not in html and CIK not in html


def test_no_devices():
    emulator = Emulator(seed={"clients": [{"cik": CIK}]}, clock=lambda: T0)
    root = show(emulator)
    assert "No devices." in root.one("body").text and root.all("table") == []
    emulator.stop()


def expected_rows(emu, client_rid):
    """What the arrival table must show, from the store's log."""
    rows = []
    with emu.store.lock:
        for request in emu.store.arrivals.recent(client_rid, page.SHOWN_POINTS):
            for point in request["points"]:
                rows.append({"request": str(request["request"]),
                             "dataport": page.label(emu.store, point["rid"]),
                             "sample": page.iso(point["ts"]),
                             "arrived": page.iso(point["arrived"]),
                             "lag": page.lag(point["arrived"] - point["ts"]),
                             "value": str(point["value"]),
                             "mark": "" if point["seen"] == "new" else point["seen"]})
    return rows


def shown_rows(rows):
    return [{"request": row.attrs["data-request"],
             **{cls: row.one("td", cls).text
                for cls in ("dataport", "sample", "arrived", "lag", "value", "mark")}}
            for row in rows]


def test_arrival_log_shows_lag_and_marks_duplicates(emu, rpc):
    """A late batch, a batch whose acknowledgement is lost and that is sent
    again (its points are duplicates), and a point sent again with another
    value (replaced)."""
    client = emu.rid(CIK)
    rpc.ok("recordbatch", {"alias": "temp"}, [[T0 - 7200, 20.0], [T0 - 5, 21.0]])
    emu.set_clock(advance=30)
    emu.faults.arm("drop_after_body")
    batch = [[T0 + 20, 3], [T0 + 25, 4]]
    with pytest.raises(requests.ConnectionError):
        rpc.ok("recordbatch", {"alias": "count"}, batch)
    emu.set_clock(advance=60)
    rpc.ok("recordbatch", {"alias": "count"}, batch + [[T0 + 80, 5]])
    rpc.ok("recordbatch", {"alias": "count"}, [[T0 + 80, 6]])
    root = show(emu)
    rows = point_rows(root, client)
    assert shown_rows(rows) == expected_rows(emu, client)
    assert [(row["value"], row["lag"], row["mark"]) for row in shown_rows(rows)] == [
        ("6", "10 s", "replaced"),
        ("3", "1 min 10 s", "duplicate"), ("4", "1 min 5 s", "duplicate"), ("5", "10 s", ""),
        ("3", "10 s", ""), ("4", "5 s", ""),
        ("20.0", "2 h 0 min 0 s", ""), ("21.0", "5 s", "")]
    assert [row.attrs["class"] for row in rows] == [
        "point replaced", "point duplicate", "point duplicate", "point new", "point new",
        "point new", "point new", "point new"]
    late = [row.one("td", "lag") for row in rows if "late" in row.one("td", "lag").classes]
    assert [cell.text for cell in late] == ["1 min 10 s", "1 min 5 s", "2 h 0 min 0 s"]
    heads = [cell.text for cell in root.one("table", "arrivals").all("td", "request")]
    assert heads == ["#4 recordbatch 1 point, 1 replaced",
                     "#3 recordbatch 3 points, 2 duplicates",
                     "#2 recordbatch 2 points", "#1 recordbatch 2 points"]
    # the store keeps one value per second: the duplicates did not add points
    assert emu.points(CIK, "count") == [[T0 + 20, 3], [T0 + 25, 4], [T0 + 80, 6]]


def test_arrival_log_notes_only_points_a_write_stored(emu, rpc):
    """Refused points, reads and points copied by a subscription are not
    arrivals; a write into a child client's dataport is the child's."""
    mirror = rpc.ok("create", "dataport", {"format": "float", "subscribe": emu.rid(CIK, "temp")})
    child = rpc.ok("create", "client", {"name": "kid"})
    child_port = Rpc(emu.session(), auth_key(rpc, child)).ok(
        "create", "dataport", {"format": "integer", "name": "level"})
    entry = rpc.call("recordbatch", {"alias": "temp"}, [[T0 - 2, 1.5], [T0 - 1, "hot"]])
    assert entry["status"] == [[T0 - 1, "invalid"]]
    rpc.ok("read", {"alias": "temp"}, {})
    rpc.ok("writegroup", [[{"alias": "count"}, 2], [child_port, 9]])
    assert emu.store.values_at(mirror, [T0 - 2]) == {T0 - 2: 1.5}     # copied, not noted
    with emu.store.lock:
        mine = emu.store.arrivals.recent(emu.rid(CIK))
        theirs = emu.store.arrivals.recent(child)
    assert [(r["calls"], [(p["rid"], p["ts"]) for p in r["points"]]) for r in mine] == [
        ("writegroup", [(emu.rid(CIK, "count"), T0)]),
        ("recordbatch", [(emu.rid(CIK, "temp"), T0 - 2)])]
    assert [(r["calls"], r["count"], r["points"][0]["rid"]) for r in theirs] == [
        ("writegroup", 1, child_port)]
    assert mine[0]["request"] == theirs[0]["request"]        # one request, noted under each
    root = show(emu)
    assert shown_rows(point_rows(root, child)) == expected_rows(emu, child)
    assert shown_rows(point_rows(root, child))[0]["dataport"] == "level"


def auth_key(rpc, client):
    return rpc.ok("info", client, {"key": True})["key"]


def test_arrival_log_is_bounded_per_client(emu, rpc):
    for second in range(KEPT_REQUESTS + 5):
        rpc.ok("recordbatch", {"alias": "count"}, [[T0 - 100 + second, second]])
    with emu.store.lock:
        kept = emu.store.arrivals.recent(emu.rid(CIK))
        rows = emu.store.connection.execute("SELECT COUNT(*) FROM arrivals").fetchone()[0]
    assert [r["request"] for r in kept] == list(range(KEPT_REQUESTS + 5, 5, -1))
    assert rows == KEPT_REQUESTS
    heads = show(emu).one("table", "arrivals").all("td", "request")
    assert len(heads) == KEPT_REQUESTS and heads[-1].text.startswith("#6 ")


def test_a_long_batch_shows_its_first_points_and_a_count(emu, rpc):
    points = [[T0 - 100 + i, i] for i in range(page.SHOWN_POINTS + 5)]
    rpc.ok("recordbatch", {"alias": "count"}, points)
    rpc.ok("recordbatch", {"alias": "count"}, points)            # all duplicates
    table = show(emu).one("table", "arrivals")
    assert len(table.all("tr", "point")) == 2 * page.SHOWN_POINTS
    assert [c.text for c in table.all("td", "request")] == [
        "#2 recordbatch %d points, %d duplicates" % (len(points), len(points)),
        "#1 recordbatch %d points" % len(points)]
    assert table.text.count("\u2026 and 5 more points") == 2


def test_arrival_log_lives_in_the_database(tmp_path):
    """A --db file keeps the log across restarts (numbers go on); dropping a
    dataport forgets its arrivals."""
    db = str(tmp_path / "onep.sqlite")
    first = Emulator(db=db, seed=DEFAULT_SEED, clock=lambda: T0)
    Rpc(first.session()).ok("write", {"alias": "temp"}, 1.5)
    first.stop()
    second = Emulator(db=db, seed=DEFAULT_SEED, clock=lambda: T0 + 1)
    rpc = Rpc(second.session())
    rpc.ok("write", {"alias": "temp"}, 1.5)
    rpc.ok("write", {"alias": "count"}, 1)
    rows = shown_rows(point_rows(show(second), second.rid(CIK)))
    assert [(r["request"], r["dataport"], r["arrived"]) for r in rows] == [
        ("3", "count", page.iso(T0 + 1)), ("2", "temp", page.iso(T0 + 1)),
        ("1", "temp", page.iso(T0))]
    rpc.ok("drop", second.rid(CIK, "temp"))
    rows = shown_rows(point_rows(show(second), second.rid(CIK)))
    assert [r["request"] for r in rows] == ["3"]
    second.stop()


def test_stored_text_is_escaped_everywhere():
    seed = {"clients": [{"cik": CIK, "name": "<b>gw</b>", "dataports": [
                {"format": "string", "name": "<i>n</i>"},
                {"alias": "<s>", "format": "string"}]}],
            "devices": [{"vendor": "<script>v", "model": "m", "sn": "<u>", "cik": "4" * 40,
                         "enabled": True}]}
    emulator = Emulator(seed=seed, clock=lambda: T0)
    Rpc(emulator.session()).ok("write", {"alias": "<s>"}, "<script>alert(1)</script>")
    html = emulator.session().get("/").text
    for raw in ("<b>gw", "<i>n", "<s>", "<script>", "<u>"):
        assert raw not in html
    root = read(html)
    assert root.one("tr", "point").one("td", "value").text == "<script>alert(1)</script>"
    assert "4" * 40 not in html and CIK not in html
    emulator.stop()


def test_points_repeated_within_one_call(emu, rpc):
    rpc.ok("recordbatch", {"alias": "count"}, [[T0 - 2, 1], [T0 - 2, 1], [T0 - 1, 1],
                                               [T0 - 1, 2]])
    with emu.store.lock:
        (request,) = emu.store.arrivals.recent(emu.rid(CIK))
    assert [(p["ts"] - T0, p["seen"]) for p in request["points"]] == [
        (-2, "new"), (-2, "duplicate"), (-1, "new"), (-1, "replaced")]
    assert (request["count"], request["duplicates"], request["replaced"]) == (4, 1, 1)


def test_concurrent_requests_keep_their_own_points(emu):
    """Two requests in flight at once (both opened, both waiting for the
    store): each request's points stay its own."""
    def send(alias, stamp):
        Rpc(emu.session()).ok("recordbatch", {"alias": alias}, [[stamp, 1], [stamp + 1, 2]])

    threads = [threading.Thread(target=send, args=(alias, T0 - stamp))
               for alias, stamp in (("temp", 100), ("count", 200))]
    with emu.store.lock:                  # both requests get as far as the store, and wait
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while emu._in_flight < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
    for thread in threads:
        thread.join()
    with emu.store.lock:
        kept = emu.store.arrivals.recent(emu.rid(CIK))
    assert sorted((r["calls"], len(r["points"]), len({p["rid"] for p in r["points"]}))
                  for r in kept) == [("recordbatch", 2, 1), ("recordbatch", 2, 1)]
