"""Reading a program's /metrics in tests: Prometheus's text format, parsed by Debian's
python3-prometheus-client (the parser Prometheus's own Python client ships), so a test also
checks that what we serve is valid exposition text."""
import re
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from harness import wait_until

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Scrape:
    """One scrape: every sample by name and labels, every family's type."""

    def __init__(self, text):
        self.text = text
        self.samples = {}
        self.types = {}
        for family in text_string_to_metric_families(text):
            self.types[family.name] = family.type
            for s in family.samples:
                key = (s.name, frozenset(s.labels.items()))
                assert key not in self.samples, f"sample {s.name}{s.labels} served twice"
                self.samples[key] = s.value

    def names(self):
        """The name of every sample (counters with their _total, histograms with _bucket ...)."""
        return {name for name, _ in self.samples}

    def value(self, name, **labels):
        """The value of the sample `name` with exactly these labels."""
        key = (name, frozenset(labels.items()))
        if key not in self.samples:
            have = sorted(dict(l) for n, l in self.samples if n == name) if name in self.names() else "no such metric"
            raise AssertionError(f"no sample {name}{labels}; served: {have}")
        return self.samples[key]

    def labels(self, name):
        """The label sets of every sample of `name`."""
        return [dict(l) for n, l in self.samples if n == name]

    def total(self, name):
        """The sum over every label set of `name`."""
        return sum(v for (n, _), v in self.samples.items() if n == name)


def get(url, timeout=5.0):
    """GET url: (status, content type, body text)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.status, reply.headers.get("Content-Type"), reply.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode("utf-8", "replace")


def scrape(port, path="/metrics", host="127.0.0.1"):
    """Scrapes http://host:port/path; checks the status and the content type."""
    status, content_type, body = get(f"http://{host}:{port}{path}")
    assert status == 200, f"GET {path} answered {status}: {body[:300]}"
    assert content_type == CONTENT_TYPE, content_type
    return Scrape(body)


def scrape_until(port, timeout=20, **want):
    """Scrapes until the named samples (no labels) have these values; returns that scrape. On a
    timeout the error shows the values last seen."""
    last = {}

    def check():
        s = scrape(port)
        last.update({name: s.value(name) for name in want})
        return s if last == want else None
    try:
        return wait_until(check, timeout=timeout, message=f"metrics {want}")
    except AssertionError as e:
        raise AssertionError(f"{e}; last seen {last}") from None


KAFKA_SECTION = "### engine --kafka"


def documented(doc, kafka=False):
    """{metric name: (type, labels cell)} of the table rows of docs/observability.md: those of every
    section but "engine --kafka", or (kafka=True) those of that section plus the TCP engine's
    metrics its text names as served too (their rows are the TCP engine's)."""
    everything, rows, section, shared = {}, {}, "", set()
    for line in doc.read_text().splitlines():
        if line.startswith("#"):
            section = line.strip()
        m = re.match(r"\| `(trend_[a-z0-9_]+)` \| (counter|gauge|histogram) \|(.*?)\| .* \|$", line)
        if m:
            assert m.group(1) not in everything, f"{m.group(1)} documented twice"
            everything[m.group(1)] = (m.group(2), m.group(3).strip())
            if (section == KAFKA_SECTION) == kafka:
                rows[m.group(1)] = everything[m.group(1)]
        elif kafka and section == KAFKA_SECTION:
            shared.update(re.findall(r"`(trend_engine_[a-z0-9_]+)`", line))
    for name in shared:
        rows[name] = everything[name]
    return rows
