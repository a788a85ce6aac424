// The live page: Server-Sent Events from /events, falling back to polling /refreshDashboard
// every second (as the original page did) while the event stream is down.
// Hashtags are data, never markup: they reach the page only through textContent and chart labels.
(function () {
  'use strict';

  var POLL_MS = 1000;
  var COLORS = ['255, 99, 132', '54, 162, 235', '255, 206, 86', '75, 192, 192', '153, 102, 255',
                '255, 159, 64', '255, 99, 132', '54, 162, 235', '255, 206, 86', '75, 192, 192'];

  var connectionEl = document.getElementById('connection');
  var updatedEl = document.getElementById('updated');
  var rowsEl = document.getElementById('top-rows');
  var emptyEl = document.getElementById('empty');

  var state = { connection: 'connecting', version: -1, updated: '', labels: [], counts: [], events: 0, polls: 0 };
  var chart = null;
  var pollTimer = null;
  var source = null;

  function makeChart() {
    if (typeof Chart === 'undefined') return null;  // the table still shows the data
    return new Chart(document.getElementById('chart'), {
      type: 'bar',
      data: {
        labels: [],
        datasets: [{
          label: 'Hashtags Counts',
          data: [],
          backgroundColor: COLORS.map(function (c) { return 'rgba(' + c + ', 0.2)'; }),
          borderColor: COLORS.map(function (c) { return 'rgba(' + c + ', 1)'; }),
          borderWidth: 1
        }]
      },
      options: {
        indexAxis: 'y',
        responsive: true,
        maintainAspectRatio: false,
        animation: { duration: 150 },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { display: false } }
      }
    });
  }

  function setConnection(name) {
    state.connection = name;
    connectionEl.textContent = name === 'live' ? 'live (SSE)' : name;
    connectionEl.className = 'state state-' + name;
  }

  function showUpdated(iso) {
    state.updated = iso || '';
    if (!iso) { updatedEl.textContent = 'never'; updatedEl.removeAttribute('datetime'); return; }
    updatedEl.setAttribute('datetime', iso);
    updatedEl.textContent = new Date(iso).toLocaleTimeString();
    updatedEl.title = iso;
  }

  function renderTable(labels, counts) {
    while (rowsEl.firstChild) rowsEl.removeChild(rowsEl.firstChild);
    labels.forEach(function (label, i) {
      var tr = document.createElement('tr');
      [String(i + 1), String(label), String(counts[i])].forEach(function (text) {
        var td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      });
      rowsEl.appendChild(tr);
    });
    emptyEl.hidden = labels.length > 0;
  }

  // Applies a board unless an older one arrives after a newer one (poll and stream may race).
  function render(data, version, updated) {
    if (!data || !Array.isArray(data.r_hashtags) || !Array.isArray(data.r_counts)) return;
    if (typeof version === 'number' && version >= 0 && version < state.version) return;
    state.version = typeof version === 'number' ? version : state.version;
    state.labels = data.r_hashtags.map(String);
    state.counts = data.r_counts.map(Number);
    if (chart) {
      chart.data.labels = state.labels.slice();
      chart.data.datasets[0].data = state.counts.slice();
      chart.update();
    }
    renderTable(state.labels, state.counts);
    showUpdated(updated);
  }

  function poll() {
    fetch('/refreshDashboard', { cache: 'no-store' }).then(function (res) {
      if (!res.ok) throw new Error('HTTP ' + res.status);
      var version = Number(res.headers.get('X-Board-Version'));
      var updated = res.headers.get('X-Board-Updated') || '';
      return res.json().then(function (data) {
        state.polls += 1;
        if (pollTimer !== null) setConnection('polling');
        render(data, isNaN(version) ? undefined : version, updated);
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
      setConnection('live');
      render(data, data.version, data.updated);
    };
    source.onerror = function () {
      // The browser retries the stream by itself; meanwhile poll so the page stays current.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setTimeout(listen, 5000);
      }
      startPolling();
    };
  }

  chart = makeChart();
  window.trendDashboard = { chart: function () { return chart; }, state: function () { return state; } };
  if (typeof EventSource === 'function') {
    listen();
  } else {
    startPolling();
  }
})();
