"""What the bench scripts write into docs/benchmarks.md, and nothing else of theirs.

Each script NAME (bench-engine, bench-client, bench-e2e) owns
  * its section, between the lines <!-- NAME:begin --> and <!-- NAME:end -->;
  * its row(s) of the Summary table, each ending in <!-- NAME:summary --> (a comment inside the
    last cell, which Markdown does not show), the table standing between <!-- summary:begin -->
    and <!-- summary:end -->.
A script replaces what it owns and leaves every other line of the file as it was.
"""
import math
import os

SUMMARY_BEGIN = "<!-- summary:begin -->"
SUMMARY_END = "<!-- summary:end -->"
SUMMARY_HEADER = ["| goal | measured | verdict | run |", "|---|---|---|---|"]


def row_marker(name):
    return f"<!-- {name}:summary -->"


def summary_row(name, goal, measured, verdict, day):
    """One Summary row, marked as NAME's."""
    return f"| {goal} | {measured} | {verdict} | {day}, `scripts/{name}` {row_marker(name)} |"


def replace_section(text, name, block, heading):
    """`text` with NAME's section replaced by `block`; appended under `heading` when it has none."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    section = f"{begin}\n{block}\n{end}"
    if begin in text and end in text:
        return text[:text.index(begin)] + section + text[text.index(end) + len(end):]
    if not text:
        text = "# Benchmarks\n"
    return text.rstrip("\n") + "\n\n" + (f"{heading}\n\n" if heading else "") + section + "\n"


def replace_summary_rows(text, name, rows):
    """`text` with NAME's Summary rows replaced by `rows` (from summary_row), where the first of
    them stood; added at the end of the table when it has none, and the table made when missing."""
    if SUMMARY_BEGIN not in text or SUMMARY_END not in text:
        table = "\n".join(["## Summary", "", SUMMARY_BEGIN, *SUMMARY_HEADER, *rows, SUMMARY_END])
        lines = text.split("\n")
        # Before the first section after the title, or at the end.
        at = next((i for i, line in enumerate(lines) if i > 0 and line.startswith("## ")), len(lines))
        return "\n".join(lines[:at] + [table, ""] + lines[at:])
    head, rest = text.split(SUMMARY_BEGIN, 1)
    table, tail = rest.split(SUMMARY_END, 1)
    lines = table.strip("\n").split("\n") if table.strip("\n") else list(SUMMARY_HEADER)
    mine = [i for i, line in enumerate(lines) if row_marker(name) in line]
    at = mine[0] if mine else len(lines)
    kept = [line for line in lines if row_marker(name) not in line]
    lines = kept[:at] + list(rows) + kept[at:]
    return head + SUMMARY_BEGIN + "\n" + "\n".join(lines) + "\n" + SUMMARY_END + tail


def write(path, name, block, rows, heading=None):
    """Rewrites NAME's section and Summary rows in the file at `path` (made if missing)."""
    text = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
    text = replace_section(text, name, block, heading)
    text = replace_summary_rows(text, name, rows)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# ---- how the Summary writes figures ----------------------------------------------------------

def millions(value, decimals=1):
    """3790281 -> '3.8 M'."""
    return f"{value / 1e6:.{decimals}f} M"


def two_digits(value):
    """Rounded to two significant digits, with thousands separators: 1865 -> '1,900'."""
    rounded = float(f"{value:.2g}")
    return f"{rounded:,.0f}" if abs(rounded) >= 10 else f"{rounded:g}"


def approx_range(values):
    """'~1,100-1,900' for the smallest and largest of `values`, each to two significant digits."""
    low, high = two_digits(min(values)), two_digits(max(values))
    return f"~{low}" if low == high else f"~{low}-{high}"
