// The live page: Server-Sent Events from /events, falling back to polling /refreshDashboard
// every second (as the original page did) while the event stream is down; the history from
// /history once, then extended from the same stream; the settings from /config.
// Hashtags and the subtitle are data, never markup: they reach the page only through
// textContent, title attributes and chart labels.
(function () {
  'use strict';

  var POLL_MS = 1000;
  var TICK_MS = 500;              // the health line's refresh
  var RATE_WINDOW_MS = 10000;     // updates per second are counted over this long
  var COMPARE_MS = 60000;         // markers compare with the snapshot this long before
  var ANIMATION_MS = 250;         // a bar chart update animates this long, when it may
  var HISTORY_REDRAW_MS = 500;    // the line chart is drawn again at most this often
  var RECONNECT_MS = 5000;        // a closed event stream is opened again after this long
  var MAX_PAST_LINES = 50;        // tags that left the top keep their lines, the last 50 of them
  var FSI = '\u2068', PDI = '\u2069';  // first-strong isolate: a tag's own direction, in any text

  // ---- pure logic (window.trendDashboard.logic, tested in the browser) ---------------------------

  function secondOf(t) { return Math.floor(t / 1000); }

  // Adds {t, labels, counts} to `history` (sorted by t, one snapshot per second): the newest of
  // each second wins. Returns true when the history changed.
  function addSnapshot(history, snap) {
    var s = secondOf(snap.t);
    var i = history.length;
    while (i > 0 && secondOf(history[i - 1].t) > s) i -= 1;
    if (i > 0 && secondOf(history[i - 1].t) === s) {
      if (history[i - 1].t > snap.t) return false;
      history[i - 1] = snap;
      return true;
    }
    history.splice(i, 0, snap);
    return true;
  }

  // Drops the snapshots older than `spanMs` before the newest one (as the server's ring does).
  function trimHistory(history, spanMs) {
    if (!history.length) return;
    var oldest = secondOf(history[history.length - 1].t) - Math.max(1, Math.floor(spanMs / 1000)) + 1;
    var n = 0;
    while (n < history.length - 1 && secondOf(history[n].t) < oldest) n += 1;
    if (n) history.splice(0, n);
  }

  // What the current board is compared with: the newest snapshot at least `compareMs` before
  // it, or the oldest before it when the history is shorter; null when there is none before it.
  function referenceSnapshot(history, currentT, compareMs) {
    var before = history.filter(function (s) { return secondOf(s.t) < secondOf(currentT); });
    if (!before.length) return null;
    for (var i = before.length - 1; i >= 0; i -= 1) {
      if (before[i].t <= currentT - compareMs) return before[i];
    }
    return before[0];
  }

  // For each label: {trend: 'new' | 'rising' | 'falling' | 'same', places}, places > 0 when it rose.
  function markers(reference, labels) {
    return labels.map(function (label, rank) {
      if (!reference) return { trend: 'same', places: 0 };
      var before = reference.labels.indexOf(label);
      if (before < 0) return { trend: 'new', places: 0 };
      var places = before - rank;
      return { trend: places > 0 ? 'rising' : places < 0 ? 'falling' : 'same', places: places };
    });
  }

  // Each label's colour (an index into `size` colours): a tag keeps its colour while it stays in
  // the top, a newcomer takes the lowest free one. `previous` and the result are Maps.
  function assignColors(previous, labels, size) {
    var next = new Map();
    var used = new Set();
    labels.forEach(function (label) {
      if (previous.has(label) && !used.has(previous.get(label)) && !next.has(label)) {
        next.set(label, previous.get(label));
        used.add(previous.get(label));
      }
    });
    labels.forEach(function (label, rank) {
      if (next.has(label)) return;
      var free = 0;
      while (used.has(free) && free < size) free += 1;
      var colour = free < size ? free : rank % size;
      next.set(label, colour);
      used.add(colour);
    });
    return next;
  }

  // At most `max` characters (code points, so no character is cut in half), '…' when shortened.
  function shorten(label, max) {
    var chars = Array.from(String(label));
    return chars.length <= max ? chars.join('') : chars.slice(0, Math.max(1, max - 1)).join('') + '\u2026';
  }

  // A label drawn on a canvas: isolated, so a right-to-left tag reads right to left with its '#'.
  function isolate(text) { return FSI + text + PDI; }

  // Breaks a long label into lines of `width` characters (for tooltips, which do not wrap).
  function wrap(label, width) {
    var chars = Array.from(String(label));
    var lines = [];
    for (var i = 0; i < chars.length; i += width) lines.push(chars.slice(i, i + width).join(''));
    return lines.length ? lines : [''];
  }

  // One series per tag of the history: the current tags first, in their order, then up to
  // `maxPast` of the ones that left the top, those seen last first (they keep their past points).
  // Each point is {x: t, y: count}; a {x, y: null} point where a tag was absent breaks its line.
  // One pass over the snapshots, so a history of many tags costs its size, not tags x snapshots.
  function lineSeries(history, currentLabels, maxPast) {
    var byLabel = new Map();
    history.forEach(function (s, i) {
      s.labels.forEach(function (label, at) {
        var series = byLabel.get(label);
        if (!series) { series = { label: label, points: [], last: -1 }; byLabel.set(label, series); }
        if (series.last >= 0 && series.last < i - 1) series.points.push({ x: history[series.last + 1].t, y: null });
        if (series.last === i) return;  // a tag twice in one snapshot: its first place counts
        series.points.push({ x: s.t, y: s.counts[at] });
        series.last = i;
      });
    });
    var current = new Set(currentLabels);
    var out = [];
    currentLabels.forEach(function (label) {
      var series = byLabel.get(label);
      if (series && out.indexOf(series) < 0) { series.current = true; out.push(series); }
    });
    var past = [];
    byLabel.forEach(function (series) { if (!current.has(series.label)) { series.current = false; past.push(series); } });
    past.sort(function (a, b) { return b.last - a.last; });
    return out.concat(past.slice(0, maxPast === undefined ? past.length : maxPast)).map(function (series) {
      return { label: series.label, current: series.current, points: series.points };
    });
  }

  // The health of what the page shows: 'reconnecting' while it has no working connection,
  // 'stale' when the newest update is older than staleAfterMs (or none came for that long
  // since the connection opened), else 'live'.
  function healthState(connected, newestAgeMs, connectedForMs, staleAfterMs) {
    if (!connected) return 'reconnecting';
    var quiet = newestAgeMs === null ? connectedForMs : newestAgeMs;
    return quiet > staleAfterMs ? 'stale' : 'live';
  }

  // "4 s", "2 min", "1 h 5 min".
  function formatAge(ms) {
    if (ms === null || ms === undefined) return 'never';
    var s = Math.max(0, ms) / 1000;
    if (s < 10) return s.toFixed(1) + ' s ago';
    if (s < 120) return Math.round(s) + ' s ago';
    if (s < 7200) return Math.round(s / 60) + ' min ago';
    return Math.floor(s / 3600) + ' h ' + Math.round((s % 3600) / 60) + ' min ago';
  }

  function formatSpan(ms) {
    var s = Math.round(ms / 1000);
    if (s % 3600 === 0) return s === 3600 ? 'hour' : (s / 3600) + ' hours';
    if (s % 60 === 0) return s === 60 ? 'minute' : (s / 60) + ' minutes';
    return s === 1 ? 'second' : s + ' seconds';
  }

  // A tick step for a time axis spanning `ms`: about six labels, on round times.
  function timeStep(ms) {
    var steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600].map(function (s) { return s * 1000; });
    for (var i = 0; i < steps.length; i += 1) if (ms / steps[i] <= 6) return steps[i];
    return steps[steps.length - 1];
  }

  var logic = {
    addSnapshot: addSnapshot, trimHistory: trimHistory, referenceSnapshot: referenceSnapshot, markers: markers,
    assignColors: assignColors, shorten: shorten, isolate: isolate, wrap: wrap, lineSeries: lineSeries,
    healthState: healthState, formatAge: formatAge, timeStep: timeStep
  };

  // ---- the page ----------------------------------------------------------------------------------

  var el = {
    subtitle: document.getElementById('subtitle'),
    connection: document.getElementById('connection'),
    rate: document.getElementById('rate'),
    age: document.getElementById('age'),
    updated: document.getElementById('updated'),
    rows: document.getElementById('top-rows'),
    empty: document.getElementById('empty'),
    historyTitle: document.getElementById('history-title')
  };

  var settings = { historyMs: 15 * 60 * 1000, staleAfterMs: 10000 };
  var state = {
    connection: 'connecting',   // 'live' (event stream), 'polling', 'disconnected', 'connecting'
    health: 'reconnecting',     // what the badge says: 'live', 'stale', 'reconnecting'
    version: -1, started: null, updated: '', t: 0, labels: [], counts: [], events: 0, polls: 0,
    history: [], colors: new Map(), markers: [], updatesAt: [], renders: 0
  };
  var ageBase = null;           // {age: ms when received, at: performance.now() then}
  var connectedSince = null;    // performance.now() when the current connection started to work
  var loadedAt = performance.now();
  var bars = null, lines = null;
  var renderPending = false, lastBarRender = -Infinity, lastLineRender = -Infinity, lineTimer = null, lineKey = null;
  var pollTimer = null, source = null;

  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  function palette() { return cssVar('--series').split(/\s+/).filter(Boolean); }
  function withAlpha(hex, alpha) {
    var n = parseInt(hex.slice(1), 16);
    return 'rgba(' + ((n >> 16) & 255) + ', ' + ((n >> 8) & 255) + ', ' + (n & 255) + ', ' + alpha + ')';
  }
  function colourOf(label) {
    var colours = palette();
    return colours[(state.colors.has(label) ? state.colors.get(label) : 0) % colours.length];
  }
  function fontSize() { return Math.round(parseFloat(getComputedStyle(document.documentElement).fontSize) * 0.8); }

  function applyTheme() {
    if (typeof Chart === 'undefined') return;
    Chart.defaults.color = cssVar('--text');
    Chart.defaults.borderColor = cssVar('--grid');
    Chart.defaults.font.size = fontSize();
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    [bars, lines].forEach(function (chart) {
      if (!chart) return;
      ['x', 'y'].forEach(function (axis) {
        chart.options.scales[axis].ticks.color = cssVar('--text');
        chart.options.scales[axis].grid.color = cssVar('--grid');
      });
    });
  }

  function makeBars() {
    return new Chart(document.getElementById('chart'), {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'Count', data: [], backgroundColor: [], borderColor: [], borderWidth: 2 }] },
      options: {
        indexAxis: 'y',
        responsive: true,
        maintainAspectRatio: false,
        // The first frame is drawn final: render() animates only value changes of the same tags
        // in the same places, and never while an update comes faster than the animation.
        animation: false,
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0, color: cssVar('--text') }, grid: { color: cssVar('--grid') } },
          y: {
            ticks: {
              autoSkip: false,
              color: cssVar('--text'),
              callback: function (value) {
                var label = this.getLabelForValue(value);
                return isolate(shorten(label, Math.max(8, Math.min(32, Math.floor(this.chart.width / 26)))));
              }
            },
            grid: { display: false, color: cssVar('--grid') }
          }
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: function (items) {
                return items.length ? wrap(items[0].chart.data.labels[items[0].dataIndex], 40) : '';
              },
              label: function (item) { return ' ' + item.formattedValue; }
            }
          }
        }
      }
    });
  }

  function makeLines() {
    return new Chart(document.getElementById('history'), {
      type: 'line',
      data: { datasets: [] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        parsing: false,
        normalized: true,
        spanGaps: false,
        interaction: { mode: 'nearest', intersect: false },
        scales: {
          x: {
            type: 'linear',
            bounds: 'data',
            ticks: {
              color: cssVar('--text'),
              maxRotation: 0,
              callback: function (value) { return new Date(value).toLocaleTimeString(); }
            },
            grid: { color: cssVar('--grid') }
          },
          y: { beginAtZero: true, ticks: { precision: 0, color: cssVar('--text') }, grid: { color: cssVar('--grid') } }
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: function (items) { return items.length ? new Date(items[0].parsed.x).toLocaleTimeString() : ''; },
              label: function (item) { return ' ' + isolate(shorten(item.dataset.label, 40)) + ': ' + item.formattedValue; }
            }
          }
        }
      }
    });
  }

  function setHealth(name) {
    state.health = name;
    if (el.connection.textContent !== name) el.connection.textContent = name;
    el.connection.className = 'state state-' + name;
    el.connection.title = state.connection === 'live' ? 'pushed by the server (Server-Sent Events)'
      : state.connection === 'polling' ? 'asking the server every second (the event stream is down)'
        : 'no connection to the dashboard: trying again';
  }

  function setConnection(name) {
    if (name !== state.connection) {
      connectedSince = name === 'live' || name === 'polling' ? performance.now() : null;
    }
    state.connection = name;
    tick();
  }

  function newestAge() {
    return ageBase ? ageBase.age + (performance.now() - ageBase.at) : null;
  }

  // The health line: the state, the rate of updates reaching the page, the newest update's age.
  function tick() {
    var now = performance.now();
    while (state.updatesAt.length && state.updatesAt[0] < now - RATE_WINDOW_MS) state.updatesAt.shift();
    var seconds = Math.max(1, Math.min(RATE_WINDOW_MS, now - loadedAt) / 1000);
    var rate = state.updatesAt.length / seconds;
    el.rate.textContent = rate >= 100 ? String(Math.round(rate)) : rate.toFixed(1);
    var age = newestAge();
    el.age.textContent = formatAge(age);
    var connected = state.connection === 'live' || state.connection === 'polling';
    setHealth(healthState(connected, age, connected ? now - connectedSince : 0, settings.staleAfterMs));
  }

  function showUpdated(iso) {
    state.updated = iso || '';
    if (!iso) { el.updated.textContent = 'never'; el.updated.removeAttribute('datetime'); return; }
    el.updated.setAttribute('datetime', iso);
    el.updated.textContent = new Date(iso).toLocaleTimeString();
    el.updated.title = iso;
  }

  function trendText(m) {
    if (m.trend === 'new') return 'new';
    if (m.trend === 'rising') return '\u25b2 ' + m.places;
    if (m.trend === 'falling') return '\u25bc ' + (-m.places);
    return '\u2013';
  }

  function trendTitle(m, reference) {
    var since = reference ? ' since ' + new Date(reference.t).toLocaleTimeString() : '';
    if (m.trend === 'new') return 'new in the top' + since;
    if (m.trend === 'rising') return 'up ' + m.places + (m.places === 1 ? ' place' : ' places') + since;
    if (m.trend === 'falling') return 'down ' + (-m.places) + (m.places === -1 ? ' place' : ' places') + since;
    return 'same place' + since;
  }

  function renderTable(reference) {
    var fragment = document.createDocumentFragment();
    state.labels.forEach(function (label, i) {
      var tr = document.createElement('tr');
      var rank = document.createElement('td');
      rank.textContent = String(i + 1);
      var tag = document.createElement('td');
      tag.title = label;
      var swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.setAttribute('aria-hidden', 'true');
      swatch.style.backgroundColor = colourOf(label);
      var text = document.createElement('bdi');  // its own direction: '#' stays with a right-to-left tag
      text.textContent = label;
      tag.appendChild(swatch);
      tag.appendChild(text);
      var count = document.createElement('td');
      count.textContent = String(state.counts[i]);
      var change = document.createElement('td');
      var m = state.markers[i];
      change.textContent = trendText(m);
      change.className = 'trend trend-' + m.trend;
      change.title = trendTitle(m, reference);
      change.setAttribute('data-trend', m.trend);
      change.setAttribute('data-places', String(m.places));
      [rank, tag, count, change].forEach(function (td) { tr.appendChild(td); });
      fragment.appendChild(tr);
    });
    while (el.rows.firstChild) el.rows.removeChild(el.rows.firstChild);
    el.rows.appendChild(fragment);
    el.empty.hidden = state.labels.length > 0;
  }

  function renderBars() {
    if (!bars) return;
    var now = performance.now();
    var sameRows = bars.data.labels.length === state.labels.length &&
      bars.data.labels.every(function (l, i) { return l === state.labels[i]; });
    // Bars animate only when each keeps its row and the last update's animation has ended:
    // a bar never crosses rows, and fast updates are drawn final instead of piling up.
    var animate = state.renders > 0 && sameRows && now - lastBarRender > ANIMATION_MS * 2;
    var colours = state.labels.map(colourOf);
    bars.data.labels = state.labels.slice();
    var set = bars.data.datasets[0];
    set.data = state.counts.slice();
    set.backgroundColor = colours.map(function (c) { return withAlpha(c, 0.35); });
    set.borderColor = colours;
    if (animate) {
      bars.options.animation = { duration: ANIMATION_MS };
      bars.update();
    } else {
      bars.stop();  // an animation still running would go on moving the bars after this update
      bars.options.animation = false;
      bars.update('none');
    }
    lastBarRender = now;
  }

  function renderLines() {
    if (!lines) return;
    lastLineRender = performance.now();
    var faded = cssVar('--faded');
    lines.data.datasets = lineSeries(state.history, state.labels, MAX_PAST_LINES).map(function (s) {
      var colour = s.current ? colourOf(s.label) : faded;
      return {
        label: s.label, data: s.points, borderColor: colour, backgroundColor: colour,
        borderWidth: s.current ? 2 : 1, pointRadius: s.current ? 2 : 1, pointHoverRadius: 4, tension: 0,
        order: s.current ? 0 : 1
      };
    });
    var first = state.history.length ? state.history[0].t : 0;
    var last = state.history.length ? state.history[state.history.length - 1].t : 0;
    lines.options.scales.x.ticks.stepSize = timeStep(Math.max(1000, last - first));
    lines.update('none');
  }

  // The lines are drawn again at most every HISTORY_REDRAW_MS, except when the tags of the top
  // change: their colours must match the bars from the frame the bars change in.
  function scheduleLines() {
    var key = state.labels.slice().sort().join('\n');
    var wait = key !== lineKey ? 0 : HISTORY_REDRAW_MS - (performance.now() - lastLineRender);
    lineKey = key;
    if (wait <= 0) {
      if (lineTimer !== null) { clearTimeout(lineTimer); lineTimer = null; }
      renderLines();
      return;
    }
    if (lineTimer === null) lineTimer = setTimeout(function () { lineTimer = null; renderLines(); }, wait);
  }

  function render() {
    renderPending = false;
    state.colors = assignColors(state.colors, state.labels, palette().length || 10);
    var reference = referenceSnapshot(state.history, state.t, COMPARE_MS);
    state.markers = markers(reference, state.labels);
    renderBars();
    renderTable(reference);
    showUpdated(state.updated);
    scheduleLines();
    state.renders += 1;
  }

  // Several boards within one frame are drawn once, the newest.
  function scheduleRender() {
    if (renderPending) return;
    renderPending = true;
    requestAnimationFrame(render);
  }

  // Takes a board unless an older one arrives after a newer one (poll and stream may race); a
  // board of another server start (the dashboard restarted) is always taken.
  function receive(data, version, updated, t, ageMs, started) {
    if (!data || !Array.isArray(data.r_hashtags) || !Array.isArray(data.r_counts)) return;
    var restarted = typeof started === 'number' && started !== state.started;
    if (!restarted && typeof version === 'number' && version >= 0 && version < state.version) return;
    var isNew = restarted ? version > 0 : version > state.version;
    if (isNew && state.version >= 0) state.updatesAt.push(performance.now());
    if (typeof started === 'number') state.started = started;
    if (typeof version === 'number') state.version = version;
    if (typeof ageMs === 'number' && isFinite(ageMs)) ageBase = { age: ageMs, at: performance.now() };
    else if (!(version > 0)) ageBase = null;
    state.labels = data.r_hashtags.map(String);
    state.counts = data.r_counts.map(Number);
    state.updated = updated || '';
    if (version > 0 && typeof t === 'number' && t > 0) {
      state.t = t;
      if (addSnapshot(state.history, { t: t, labels: state.labels.slice(0, 10), counts: state.counts.slice(0, 10) })) {
        trimHistory(state.history, settings.historyMs);
      }
    }
    scheduleRender();
    tick();
  }

  function poll() {
    fetch('/refreshDashboard', { cache: 'no-store' }).then(function (res) {
      if (!res.ok) throw new Error('HTTP ' + res.status);
      var header = function (name) { var v = res.headers.get(name); return v === null ? NaN : Number(v); };
      var updated = res.headers.get('X-Board-Updated') || '';
      return res.json().then(function (data) {
        state.polls += 1;
        if (pollTimer !== null) setConnection('polling');
        var version = header('X-Board-Version');
        var started = header('X-Board-Started');
        receive(data, isNaN(version) ? undefined : version, updated, updated ? Date.parse(updated) : 0,
                header('X-Board-Age-Ms'), isNaN(started) ? undefined : started);
      });
    }).catch(function () {
      if (pollTimer !== null) setConnection('disconnected');
    });
  }

  function startPolling() {
    if (pollTimer !== null) return;
    pollTimer = setInterval(poll, POLL_MS);
    poll();
  }

  function stopPolling() {
    if (pollTimer === null) return;
    clearInterval(pollTimer);
    pollTimer = null;
  }

  function listen() {
    source = new EventSource('/events');
    source.onopen = function () { stopPolling(); setConnection('live'); };
    source.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      state.events += 1;
      stopPolling();
      if (state.connection !== 'live') setConnection('live');
      receive(data, data.version, data.updated, data.t, data.age_ms, data.started);
    };
    source.onerror = function () {
      // The browser retries the stream by itself; meanwhile poll so the page stays current.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setTimeout(listen, RECONNECT_MS);
      }
      if (state.connection === 'live') setConnection('disconnected');
      startPolling();
    };
  }

  function loadSettings() {
    return fetch('/config', { cache: 'no-store' }).then(function (res) {
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return res.json();
    }).then(function (c) {
      if (typeof c.history_ms === 'number' && c.history_ms > 0) settings.historyMs = c.history_ms;
      if (typeof c.stale_after_ms === 'number' && c.stale_after_ms > 0) settings.staleAfterMs = c.stale_after_ms;
      if (typeof c.subtitle === 'string' && c.subtitle) {
        el.subtitle.textContent = c.subtitle;
        el.subtitle.hidden = false;
      }
    }).catch(function () { /* the defaults serve */ }).then(function () {
      el.historyTitle.textContent = 'The last ' + formatSpan(settings.historyMs);
    });
  }

  function loadHistory() {
    return fetch('/history', { cache: 'no-store' }).then(function (res) {
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return res.json();
    }).then(function (list) {
      if (!Array.isArray(list)) return;
      list.forEach(function (s) {
        if (!s || typeof s.t !== 'number' || !Array.isArray(s.r_hashtags) || !Array.isArray(s.r_counts)) return;
        addSnapshot(state.history, { t: s.t, labels: s.r_hashtags.map(String), counts: s.r_counts.map(Number) });
      });
      trimHistory(state.history, settings.historyMs);
      scheduleRender();
    }).catch(function () { /* the stream still extends the history from now on */ });
  }

  if (typeof Chart !== 'undefined') {
    applyTheme();
    bars = makeBars();
    lines = makeLines();
  }  // else: the table still shows the data
  if (window.matchMedia) {
    var scheme = window.matchMedia('(prefers-color-scheme: dark)');
    var onScheme = function () { applyTheme(); render(); renderLines(); };
    if (scheme.addEventListener) scheme.addEventListener('change', onScheme);
  }
  window.trendDashboard = {
    chart: function () { return bars; },
    lines: function () { return lines; },
    state: function () { return state; },
    settings: function () { return settings; },
    logic: logic
  };
  loadSettings().then(loadHistory);
  if (typeof EventSource === 'function') {
    listen();
  } else {
    startPolling();
  }
  setInterval(tick, TICK_MS);
  tick();
})();
