"""The outreach report: one self-contained HTML file with the funnel, rates and league tables.

The page needs nothing from the network: styles are inline, charts are SVG images in
``data:`` URIs, and there are no scripts or web fonts, so it opens offline and from email
attachments alike.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

from klenty_wh.errors import UsageError
from klenty_wh.models.rates_sql import COUNTS, RATES
from klenty_wh.plan.model import Plan
from klenty_wh.redact import mask_email, mask_emails_in_text
from klenty_wh.report import charts
from klenty_wh.report.check_section import CheckSummary, load_check_results, render_check_section
from klenty_wh.report.outreach_data import OutreachData, read_outreach
from klenty_wh.warehouse.connection import Warehouse

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;
color:#1d1d1f;background:#fff}
main{max-width:1040px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;margin:36px 0 10px;border-bottom:1px solid #ddd;
padding-bottom:4px}
.meta,.note{color:#555;font-size:.9em}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:18px 0}
.tile{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:110px}
.tile b{display:block;font-size:1.35em}.tile span{color:#555;font-size:.85em}
img.chart{width:100%;height:auto;display:block;margin:8px 0}
table{border-collapse:collapse;font-size:.88em;width:100%}
th,td{border-bottom:1px solid #e6e6e6;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f6f6}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.verdict{font-weight:bold}.pass{color:#1b7f3b}.fail{color:#b3261e}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;font-size:.9em}dt{font-weight:bold}
"""
_RATE_COLUMNS = ("open_rate", "click_rate", "reply_rate", "bounce_rate", "unsubscribe_rate")


@dataclass(frozen=True)
class ReportResult:
    """Summary of the page :func:`write_report` wrote: its path, the volume and whether checks are in it."""

    path: Path
    sent: int
    senders: int
    checks_included: bool


def write_report(warehouse: Warehouse, plan: Plan, schema: str, out: Path,
                 checks: Path | None = None, show_values: bool = False) -> ReportResult:
    """Read the numbers of ``schema``, render the report and write it to ``out``.

    Sender addresses and any email address in a subject line are masked
    (``m***@example.com``) unless ``show_values``.

    Raises:
        UsageError: invalid schema name, the ``checks`` file is unreadable or not check JSON,
            or ``out`` cannot be written.
        WarehouseError: the schema or a documented table is missing, or a query failed.
    """
    from klenty_wh.plan.names import validate_schema_name

    validate_schema_name(schema, warehouse.dialect)
    summary = load_check_results(checks, plan) if checks is not None else None
    data = read_outreach(warehouse, plan, schema)
    page = render_report(data, summary, warehouse.display, datetime.now(timezone.utc), show_values)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write --out {out}: {exc.strerror or exc}.") from None
    return ReportResult(path=out, sent=int(data.funnel["sent"]), senders=len(data.senders),
                        checks_included=summary is not None)


def render_report(data: OutreachData, checks: CheckSummary | None, warehouse: str,
                  generated_at: datetime, show_values: bool = False) -> str:
    """Return the report page as HTML text."""
    window = (f"emails sent {data.first_day.isoformat()} to {data.last_day.isoformat()} (UTC)"
              if data.first_day and data.last_day else "no sent emails yet")
    sections = [
        f"<h1>Klenty outreach: {escape(data.schema)}</h1>",
        f'<p class="meta">{escape(window)} · warehouse {escape(warehouse)} · generated '
        f'{generated_at.strftime("%Y-%m-%d %H:%M")} UTC by klenty-wh</p>',
        _tiles(data.funnel),
        '<section id="funnel"><h2>Outreach funnel</h2>',
        _image(charts.funnel_chart(_funnel_steps(data.funnel)), "Funnel: emails sent, delivered, "
               "opened, clicked and replied to", "funnel-chart"),
        "</section>",
        '<section id="rates"><h2>Rates over time</h2>',
        '<p class="note">Each email counts in the week or day it was first sent, so recent '
        "periods keep rising while prospects open and reply.</p>",
        _image(charts.rates_chart([row["sent_week"] for row in data.weekly],
                                  {name: [row[name] for row in data.weekly] for name in _RATE_COLUMNS},
                                  "Rates by week of sending (weeks start on Monday, UTC)"),
               "Open, click, reply, bounce and unsubscribe rates by week of sending", "rates-chart"),
        _image(charts.volume_chart([row["sent_date"] for row in data.daily],
                                   [row["sent"] for row in data.daily]),
               "Emails sent per day", "volume-chart"),
        "</section>",
        _league_table(data.senders, show_values),
        _subject_table(data, show_values),
    ]
    if checks is not None:
        sections.append(render_check_section(checks))
    sections.append(_definitions())
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Klenty outreach: {escape(data.schema)}</title><style>{_STYLE}</style></head>"
            "<body><main>\n" + "\n".join(sections) + "\n</main></body></html>\n")


def _funnel_steps(funnel: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [
        ("sent", funnel["sent"], ""),
        ("delivered", funnel["delivered"], f"{_percent(funnel['delivery_rate'])} of sent"),
        ("opened", funnel["opened"], f"{_percent(funnel['open_rate'])} of delivered"),
        ("clicked", funnel["clicked"], f"{_percent(funnel['click_rate'])} of delivered"),
        ("replied", funnel["replied"], f"{_percent(funnel['reply_rate'])} of delivered"),
    ]


def _tiles(funnel: dict[str, Any]) -> str:
    tiles = [
        ("sent", f"{funnel['sent']:,}"), ("delivered", f"{funnel['delivered']:,}"),
        ("open rate", _percent(funnel["open_rate"])), ("click rate", _percent(funnel["click_rate"])),
        ("reply rate", _percent(funnel["reply_rate"])), ("bounce rate", _percent(funnel["bounce_rate"])),
        ("unsubscribe rate", _percent(funnel["unsubscribe_rate"])),
    ]
    return '<div class="tiles">' + "".join(
        f'<div class="tile"><b>{escape(value)}</b><span>{escape(label)}</span></div>' for label, value in tiles
    ) + "</div>"


def _league_table(senders: list[dict[str, Any]], show_values: bool) -> str:
    header = ("<tr><th class=\"num\">#</th><th>sender</th><th class=\"num\">sent</th>"
              "<th class=\"num\">delivered</th><th class=\"num\">opened</th><th class=\"num\">replied</th>"
              + "".join(f"<th class=\"num\">{escape(name.replace('_', ' '))}</th>" for name in _RATE_COLUMNS)
              + "</tr>")
    rows = [
        f"<tr><td class=\"num\">{rank}</td>"
        f"<td>{escape(_shown(row['sender'], show_values, email=True) or '(no sender)')}</td>"
        + "".join(f"<td class=\"num\">{row[name]:,}</td>" for name in ("sent", "delivered", "opened", "replied"))
        + "".join(f"<td class=\"num\">{_percent(row[name])}</td>" for name in _RATE_COLUMNS)
        + "</tr>"
        for rank, row in enumerate(senders, start=1)
    ]
    return ('<section id="senders"><h2>Sender league table</h2>'
            '<p class="note">Ranked by reply rate, then by emails sent.</p>'
            f"<table><thead>{header}</thead><tbody>{''.join(rows)}</tbody></table></section>")


def _shown(value: str | None, show_values: bool, email: bool = False) -> str | None:
    """Return ``value`` as the page may show it: email addresses masked unless ``show_values``."""
    if value is None or show_values:
        return value
    return mask_email(value) if email else mask_emails_in_text(value)


def _subject_table(data: OutreachData, show_values: bool) -> str:
    rows = [
        f"<tr><td>{escape(_shown(row['subject'], show_values) or '(no subject)')}</td>"
        f"<td class=\"num\">{row['sent']:,}</td>"
        + "".join(f"<td class=\"num\">{_percent(row[name])}</td>" for name in ("open_rate", "click_rate", "reply_rate"))
        + "</tr>"
        for row in data.subjects
    ]
    return ('<section id="subjects"><h2>Subject lines</h2>'
            f'<p class="note">The {len(data.subjects)} of {data.subject_count:,} subject lines with the '
            "most sent emails.</p><table><thead><tr><th>subject</th><th class=\"num\">sent</th>"
            "<th class=\"num\">open rate</th><th class=\"num\">click rate</th><th class=\"num\">reply rate</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>")


def _definitions() -> str:
    items = "".join(f"<dt>{escape(m.name.replace('_', ' '))}</dt><dd>{escape(m.definition)}</dd>"
                    for m in COUNTS + RATES)
    return ('<section id="definitions"><h2>Definitions</h2><p class="note">Emails count in the cohort of '
            "their first send; event times are Segment's <code>timestamp</code> (UTC).</p>"
            f"<dl>{items}</dl></section>")


def _image(svg: str, alt: str, element_id: str) -> str:
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img class="chart" id="{element_id}" alt="{escape(alt)}" src="data:image/svg+xml;base64,{encoded}">'


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"
