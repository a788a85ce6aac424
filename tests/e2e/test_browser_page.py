"""The page in real headless chromium (issues 13 and 15): history points in the line chart, rising /
falling / new markers for a scripted sequence, the health line (live, stale, reconnecting),
a busy page whose bars each keep their own row from the first frame, and screenshots at 360 px
and 1920 px in light and dark with no horizontal scroll, no console error, text contrast of at
least 4.5:1, long and right-to-left hashtags, the subtitle as text. Screenshots go to
$TREND_ARTIFACTS."""
import random
import threading
import time

import requests

from browser import browser, console_errors, emulate, full_screenshot, page_state, shows  # noqa: F401
from harness import ARTIFACTS, free_port, program, wait_port, wait_until

LONG_TAG = "#" + "".join("abcdefghij"[i % 10] for i in range(279))  # 280 characters, a legal maximum
RTL_TAGS = ["#שלום", "#مرحبا_بالعالم"]


def start_dashboard(procs, *extra, port=None):
    port = port or free_port()
    p = procs("dashboard_server", [program("dashboard_server"), "--port", str(port), *extra])
    wait_port(port, proc=p)
    return p, f"http://127.0.0.1:{port}"


def post(url, labels, counts):
    r = requests.post(url + "/updateDashboard", data={"label": str(labels), "data": str(counts)}, timeout=5)
    assert r.status_code == 201, r.text


def open_page(browser, url):
    browser.get(url + "/")
    wait_until(lambda: page_state(browser) and page_state(browser)["connection"] == "live", timeout=10,
               message="the event stream to open")


def line_points(browser):
    """Each line of the history chart: its tag and the points it has (x = t, y = count)."""
    return browser.execute_script(
        "var l = window.trendDashboard.lines(); return l.data.datasets.map(function (d) {"
        " return {label: d.label, color: d.borderColor,"
        "  points: d.data.filter(function (p) { return p.y !== null; }).map(function (p) { return [p.x, p.y]; })};"
        "});")


def bar_colours(browser):
    return browser.execute_script(
        "var c = window.trendDashboard.chart(); var d = c.data.datasets[0];"
        "var out = {}; c.data.labels.forEach(function (l, i) { out[l] = d.borderColor[i]; }); return out;")


# ---- history --------------------------------------------------------------------------------------

def test_three_updates_a_second_apart_are_three_points_and_a_tag_that_drops_out_keeps_its_past(procs, browser):
    _, url = start_dashboard(procs)
    open_page(browser, url)
    tags = [f"#tag{i}" for i in range(10)]
    post(url, tags, list(range(100, 90, -1)))
    time.sleep(1.1)
    post(url, tags[:9] + ["#newcomer"], list(range(110, 100, -1)))  # #tag9 drops out of the top 10
    time.sleep(1.1)
    post(url, tags[:9] + ["#newcomer"], list(range(120, 110, -1)))
    wait_until(lambda: shows(browser, tags[:9] + ["#newcomer"], list(range(120, 110, -1))), timeout=5,
               message="the third update")
    # /history's shared body is at most a second old: wait for the one with all three.
    history = wait_until(lambda: (h := requests.get(url + "/history", timeout=5).json()) and len(h) == 3 and h,
                         timeout=3, message="three snapshots in /history")
    times = [s["t"] for s in history]

    def lines_are_right():
        lines = {l["label"]: l for l in line_points(browser)}
        return set(lines) == set(tags + ["#newcomer"]) \
            and lines["#tag0"]["points"] == [[times[0], 100], [times[1], 110], [times[2], 120]] \
            and lines["#tag9"]["points"] == [[times[0], 91]] \
            and lines["#newcomer"]["points"] == [[times[1], 101], [times[2], 111]]
    # The page that watched the updates arrive, and a page loaded afterwards from /history.
    wait_until(lines_are_right, timeout=5, message="three points per tag, #tag9's past point kept")
    browser.get(url + "/")
    wait_until(lines_are_right, timeout=10, message="the same lines from /history after a reload")
    wait_until(lambda: shows(browser, tags[:9] + ["#newcomer"], list(range(120, 110, -1))), timeout=5,
               message="the board after a reload")
    time.sleep(0.6)  # the line chart is drawn again at most every 0.5 s
    # The lines of the tags in the top have their bars' colours; the one that left is faded.
    lines = {l["label"]: l for l in line_points(browser)}
    bars = bar_colours(browser)
    assert all(lines[t]["color"] == bars[t] for t in bars)
    assert lines["#tag9"]["color"] not in bars.values()
    assert len(set(bars.values())) == 10, "ten tags, ten colours"
    assert console_errors(browser) == []


# ---- markers --------------------------------------------------------------------------------------

def test_rising_falling_and_new_markers_follow_a_scripted_sequence(procs, browser):
    _, url = start_dashboard(procs)
    open_page(browser, url)
    post(url, ["#a", "#b", "#c", "#d", "#e"], [50, 40, 30, 20, 10])
    wait_until(lambda: shows(browser, ["#a", "#b", "#c", "#d", "#e"], [50, 40, 30, 20, 10]), timeout=5,
               message="S1 drawn")
    # Nothing to compare the first snapshot with: no arrows.
    assert page_state(browser)["trends"] == [["same", 0]] * 5
    time.sleep(1.1)
    post(url, ["#c", "#a", "#b", "#f", "#d"], [60, 55, 45, 25, 21])
    # Against the oldest snapshot (the history is shorter than a minute): #c up 2, #a and #b down 1,
    # #f new, #d down 1.
    expected = [["rising", 2], ["falling", -1], ["falling", -1], ["new", 0], ["falling", -1]]
    wait_until(lambda: page_state(browser)["trends"] == expected, timeout=5, message="markers of S2")
    rows = page_state(browser)["rows"]
    assert [r[3] for r in rows] == ["▲ 2", "▼ 1", "▼ 1", "new", "▼ 1"]
    time.sleep(1.1)
    post(url, ["#f", "#c", "#a", "#b", "#e"], [70, 65, 56, 46, 12])
    expected = [["new", 0], ["rising", 1], ["falling", -2], ["falling", -2], ["same", 0]]
    wait_until(lambda: page_state(browser)["trends"] == expected, timeout=5, message="markers of S3")
    titles = browser.execute_script(
        "return Array.from(document.querySelectorAll('#top-rows td[data-trend]')).map(function (td) { return td.title; })")
    assert titles[0].startswith("new in the top since ")
    assert titles[2].startswith("down 2 places since ")
    # A page loaded now computes the same from /history.
    browser.get(url + "/")
    wait_until(lambda: page_state(browser) and page_state(browser)["trends"] == expected, timeout=10,
               message="the same markers after a reload")


def test_markers_compare_with_the_snapshot_a_minute_earlier(procs, browser):
    """The page's own logic, run in the browser on a history longer than a minute."""
    _, url = start_dashboard(procs)
    open_page(browser, url)
    result = browser.execute_script("""
        var L = window.trendDashboard.logic, h = [];
        var t0 = 1764064800000;
        L.addSnapshot(h, {t: t0, labels: ['#a', '#b', '#c'], counts: [3, 2, 1]});
        L.addSnapshot(h, {t: t0 + 30000, labels: ['#b', '#a', '#c'], counts: [5, 4, 1]});
        L.addSnapshot(h, {t: t0 + 50000, labels: ['#c', '#b', '#a'], counts: [9, 6, 5]});
        L.addSnapshot(h, {t: t0 + 50400, labels: ['#c', '#a', '#b'], counts: [9, 7, 6]});  // same second: wins
        L.addSnapshot(h, {t: t0 + 95000, labels: ['#d', '#a', '#c'], counts: [20, 8, 9]});
        var ref = L.referenceSnapshot(h, t0 + 95000, 60000);
        return {n: h.length, ref: ref.t - t0, markers: L.markers(ref, ['#d', '#c', '#a']),
                short: L.referenceSnapshot(h, t0 + 50400, 60000).t - t0,
                none: L.referenceSnapshot([h[0]], t0, 60000),
                shortened: L.shorten('#' + '\\ud83d\\ude00'.repeat(40), 10),
                colours: Array.from(L.assignColors(L.assignColors(new Map(), ['#x', '#y', '#z'], 10),
                                                   ['#z', '#w', '#x'], 10).entries()),
                series: L.lineSeries([{t: 1000, labels: ['#a', '#b'], counts: [2, 1]},
                                      {t: 2000, labels: ['#c'], counts: [1]},
                                      {t: 3000, labels: ['#a', '#d'], counts: [4, 1]}], ['#a', '#d'], 1)};
    """)
    assert result["n"] == 4
    assert result["ref"] == 30000  # the newest at least a minute before t0+95 s
    # Against ['#b', '#a', '#c'] of t0+30 s: #d new, #c up 1, #a down 1.
    assert result["markers"] == [{"trend": "new", "places": 0}, {"trend": "rising", "places": 1},
                                 {"trend": "falling", "places": -1}]
    assert result["short"] == 0  # less than a minute of history: the oldest
    assert result["none"] is None
    assert result["shortened"] == "#" + "\U0001F600" * 8 + "…"  # characters, not UTF-16 halves
    assert dict(result["colours"]) == {"#z": 2, "#x": 0, "#w": 1}  # tags keep their colour
    # The current tags first; #a's line breaks where it was absent; of the tags that left, the one
    # seen last (#c) keeps its line within the cap of 1.
    assert result["series"] == [
        {"label": "#a", "current": True, "points": [{"x": 1000, "y": 2}, {"x": 2000, "y": None}, {"x": 3000, "y": 4}]},
        {"label": "#d", "current": True, "points": [{"x": 3000, "y": 1}]},
        {"label": "#c", "current": False, "points": [{"x": 2000, "y": 1}]}]


# ---- the health line ------------------------------------------------------------------------------

class Poster:
    """Posts a changing top 10 every `every` seconds from a thread until stopped."""

    def __init__(self, url, every):
        self.url, self.every, self.sent = url, every, 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        rng = random.Random(7)
        tags = [f"#busy{i}" for i in range(10)]
        session = requests.Session()
        while not self.stopping.is_set():
            rng.shuffle(tags)
            counts = sorted((rng.randrange(10, 10000) for _ in tags), reverse=True)
            session.post(self.url + "/updateDashboard", data={"label": str(tags), "data": str(counts)}, timeout=5)
            self.sent += 1
            self.stopping.wait(self.every)

    def stop(self):
        self.stopping.set()
        self.thread.join(10)


def test_the_health_line_goes_stale_when_updates_stop_and_live_when_they_resume(procs, browser):
    _, url = start_dashboard(procs, "--stale-after", "2s")
    open_page(browser, url)
    poster = Poster(url, 0.2)
    try:
        wait_until(lambda: page_state(browser)["health"] == "live" and float(page_state(browser)["rate"]) > 0,
                   timeout=5, message="live with updates per second above 0")
        s = page_state(browser)
        assert s["state_text"] == "live"
        assert s["age"].endswith(" s ago")
    finally:
        poster.stop()
    stopped = time.monotonic()
    wait_until(lambda: page_state(browser)["health"] == "stale", timeout=8, message="stale once updates stop")
    assert time.monotonic() - stopped >= 1.5, "stale before --stale-after 2s had passed"
    assert page_state(browser)["state_text"] == "stale"
    post(url, ["#back"], [1])
    wait_until(lambda: page_state(browser)["health"] == "live", timeout=5, message="live again")
    assert console_errors(browser) == []


def test_the_health_line_says_reconnecting_while_the_dashboard_is_away_and_a_restart_is_followed(procs, browser):
    dash, url = start_dashboard(procs)
    port = int(url.rsplit(":", 1)[1])
    open_page(browser, url)
    for i in range(3):
        post(url, ["#before"], [i + 1])  # version 3: the restarted server counts from 1 again
    wait_until(lambda: shows(browser, ["#before"], [3]), timeout=5, message="version 3")
    dash.kill()
    wait_until(lambda: page_state(browser)["health"] == "reconnecting", timeout=10, message="reconnecting")
    start_dashboard(procs, port=port)
    post(url, ["#after"], [1])
    wait_until(lambda: shows(browser, ["#after"], [1]), timeout=15, message="the new server's version 1")
    wait_until(lambda: page_state(browser)["health"] == "live", timeout=15, message="live again")


# ---- a busy page ----------------------------------------------------------------------------------

BAR_GEOMETRY = """
    var c = window.trendDashboard.chart(), s = window.trendDashboard.state();
    if (!c || s.renders < 1 || !c.data.labels.length) return null;
    var meta = c.getDatasetMeta(0), y = c.scales.y, x = c.scales.x, n = c.data.labels.length;
    return {n: n, band: (y.bottom - y.top) / n, bars: meta.data.map(function (bar, i) {
        var p = bar.getProps(['x', 'y', 'height']);  // as drawn now, mid-animation or not
        return {y: p.y, height: p.height, x: p.x, row: y.getPixelForValue(i),
                end: x.getPixelForValue(c.data.datasets[0].data[i])};
    })};
"""


def check_rows(geometry):
    """Each bar sits in its own row, at its full length: none spans rows or grows from nothing."""
    assert geometry["n"] == 10 and len(geometry["bars"]) == 10
    for i, bar in enumerate(geometry["bars"]):
        assert abs(bar["y"] - bar["row"]) < 1, (i, bar)
        assert 0 < bar["height"] < geometry["band"], (i, bar)
        assert abs(bar["x"] - bar["end"]) < 1, (i, bar)
        if i:
            above = geometry["bars"][i - 1]
            assert above["y"] + above["height"] / 2 <= bar["y"] - bar["height"] / 2, (i, above, bar)


def test_a_busy_page_draws_each_bar_in_its_own_row_from_the_first_frame(procs, browser):
    _, url = start_dashboard(procs)
    poster = Poster(url, 0.03)  # ~30 reordered top 10s a second: faster than any bar animation
    try:
        wait_until(lambda: poster.sent >= 5, timeout=5, message="the first updates")
        browser.get(url + "/")
        first = wait_until(lambda: browser.execute_script(BAR_GEOMETRY), timeout=10, interval=0.01,
                           message="the first frame")
        check_rows(first)
        # The lines of the history have their bars' colours from the first frame too.
        lines = {l["label"]: l["color"] for l in line_points(browser)}
        assert all(lines[tag] == colour for tag, colour in bar_colours(browser).items())
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(ARTIFACTS / "dashboard-busy.png"))
        check_rows(browser.execute_script(BAR_GEOMETRY))
        # And so on while the updates keep coming, faster than an animation could end.
        versions = set()
        for _ in range(40):
            check_rows(browser.execute_script(BAR_GEOMETRY))
            versions.add(page_state(browser)["version"])
            time.sleep(0.05)
        assert len(versions) > 5, "the page did not follow the updates"
        assert float(page_state(browser)["rate"]) > 3
    finally:
        poster.stop()
    assert console_errors(browser) == []


# ---- every screen ---------------------------------------------------------------------------------

CONTRAST = """
    function rgb(text) {
        var m = /rgba?\\(([^)]+)\\)/.exec(text);
        if (!m) { var n = parseInt(text.replace('#', ''), 16); return [(n >> 16) & 255, (n >> 8) & 255, n & 255, 1]; }
        var p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(parseFloat);
        return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    }
    function lum(c) {
        var v = c.slice(0, 3).map(function (x) { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
        return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
    }
    function background(el) {
        for (; el; el = el.parentElement) { var c = rgb(getComputedStyle(el).backgroundColor); if (c[3] > 0) return c; }
        return [255, 255, 255, 1];
    }
    function ratio(fg, bg) {
        if (fg[3] < 1) fg = [0, 1, 2].map(function (i) { return fg[i] * fg[3] + bg[i] * (1 - fg[3]); }).concat([1]);
        var a = lum(fg), b = lum(bg);
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    }
    var worst = [];
    document.querySelectorAll('body *').forEach(function (el) {
        var own = Array.from(el.childNodes).some(function (n) { return n.nodeType === 3 && n.textContent.trim(); });
        if (!own || !el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') return;
        var r = ratio(rgb(getComputedStyle(el).color), background(el));
        if (r < 4.5) worst.push([el.tagName, el.id, el.className, el.textContent.slice(0, 20), r]);
    });
    // The charts' text is drawn with the scheme's text colour on the panel.
    var panel = background(document.getElementById('chart'));
    [window.trendDashboard.chart(), window.trendDashboard.lines()].forEach(function (c) {
        ['x', 'y'].forEach(function (axis) {
            var r = ratio(rgb(c.options.scales[axis].ticks.color), panel);
            if (r < 4.5) worst.push(['canvas', c.canvas.id, axis, '', r]);
        });
    });
    var checked = document.querySelectorAll('body *').length;
    return {worst: worst, checked: checked};
"""


def test_the_page_at_360_and_1920_px_light_and_dark(procs, browser):
    subtitle = "last 5 minutes, trend score <b>not bold</b>"
    _, url = start_dashboard(procs, "--subtitle", subtitle)
    labels = ["#python", LONG_TAG, RTL_TAGS[0], "#café", RTL_TAGS[1], "#cpp", "#realtime", "#dataviz",
              "#opensource", "#it's"]
    counts = [120, 95, 80, 64, 50, 41, 33, 20, 12, 5]
    post(url, labels, counts)
    time.sleep(1.1)
    post(url, [labels[i] for i in (1, 0, 3, 2, 5, 4, 6, 7, 9, 8)], [130, 125, 90, 85, 60, 55, 40, 30, 14, 13])
    final = [labels[i] for i in (1, 0, 3, 2, 5, 4, 6, 7, 9, 8)]
    for width in (360, 1920):
        for dark in (False, True):
            scheme = "dark" if dark else "light"
            emulate(browser, width, dark=dark)
            browser.get(url + "/")
            wait_until(lambda: shows(browser, final, [130, 125, 90, 85, 60, 55, 40, 30, 14, 13]), timeout=10,
                       message=f"the top 10 at {width} px, {scheme}")
            wait_until(lambda: browser.execute_script(
                "return window.trendDashboard.lines().data.datasets.length") == 10, timeout=5,
                message="the line chart")
            time.sleep(0.3)  # fonts settled and the line chart drawn
            where = f"{width} px {scheme}"
            assert browser.execute_script("return matchMedia('(prefers-color-scheme: dark)').matches") is dark
            # No horizontal scrolling: the layout viewport is the screen, and nothing is wider than
            # the room beside the vertical scroll bar (if any).
            sizes = browser.execute_script(
                "var d = document.documentElement;"
                "return [window.innerWidth, d.scrollWidth, document.body.scrollWidth, d.clientWidth]")
            assert sizes[0] == width and max(sizes[1:3]) <= sizes[3] <= width, (where, sizes)
            # The charts resize with the screen.
            chart_width = browser.execute_script("return window.trendDashboard.chart().width")
            assert chart_width < width and (width > 1000) == (chart_width > 600), (where, chart_width)
            contrast = browser.execute_script(CONTRAST)
            assert contrast["worst"] == [], (where, contrast["worst"])
            assert contrast["checked"] > 50
            # The subtitle is text, never markup.
            sub = browser.execute_script("var s = document.getElementById('subtitle');"
                                         "return [s.textContent, s.children.length, s.hidden]")
            assert sub == [subtitle, 0, False]
            # A long hashtag is whole in the table and on hover, shortened with an ellipsis in the chart.
            cell = browser.execute_script(
                "var td = document.querySelectorAll('#top-rows tr')[0].children[1];"
                "return [td.textContent, td.title, td.getBoundingClientRect().right <= window.innerWidth]")
            assert cell == [LONG_TAG, LONG_TAG, True], where
            ticks = browser.execute_script(
                "return window.trendDashboard.chart().scales.y.ticks.map(function (t) { return t.label; })")
            shown = ticks[0].strip("\u2068\u2069")
            assert ticks[0].startswith("\u2068") and ticks[0].endswith("\u2069")  # isolated: RTL reads RTL
            assert shown.endswith("…") and LONG_TAG.startswith(shown[:-1]) and len(shown) <= 33, (where, shown)
            assert ticks[1] == "\u2068#python\u2069"
            # Right-to-left tags read right to left: their '#' stands right of the first letter.
            rtl = browser.execute_script("""
                return Array.from(document.querySelectorAll('#top-rows td:nth-child(2) > :last-child')).map(function (b) {
                    var t = b.firstChild, r = document.createRange();
                    r.setStart(t, 0); r.setEnd(t, 1); var hash = r.getBoundingClientRect().left;
                    r.setStart(t, 1); r.setEnd(t, 2); var first = r.getBoundingClientRect().left;
                    return [b.textContent, getComputedStyle(b).direction, hash > first];
                });""")
            assert sorted(r[0] for r in rtl) == sorted(final), where
            for text, direction, hash_right in rtl:
                assert (direction == "rtl") == (text in RTL_TAGS), (where, text, direction)
                assert hash_right == (text in RTL_TAGS), (where, text)
            assert console_errors(browser) == [], where
            shot = full_screenshot(browser, ARTIFACTS / f"dashboard-{width}-{scheme}.png")
            assert shot.stat().st_size > 10000
