"""The dashboard's pages: Jinja2 templates under ``include/templates/dashboard/`` and an inline SVG chart drawn
here (no script, stylesheet or font is fetched from anywhere: the pages work offline)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from itertools import groupby

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from par_index.paths import TEMPLATES_DIR

BAR_COLOURS = {"ok": "#2e7d32", "pending": "#1f63b4", "late": "#b26a00", "bad": "#c62828", "none": "#80868b"}
CHART_WIDTH, LABEL_WIDTH, BAR_WIDTH, ROW_HEIGHT, TOP = 760, 260, 380, 22, 28

_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR / "dashboard"),
    undefined=StrictUndefined,
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _short(text: str, limit: int = 36) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def survey_chart(units: list[dict]) -> Markup:
    """Horizontal bars of survey completion per unit (lowest first), colour AND text: each bar carries its
    percentage, answered/expected and the status icon; a ``<title>`` names the unit and the status."""
    rows = sorted((u for u in units if u["survey"]["applies"]), key=lambda u: u["survey"]["percent"])
    height = TOP + ROW_HEIGHT * len(rows) + 8
    label = f"Tỷ lệ hoàn thành khảo sát theo đơn vị ({len(rows)} đơn vị)"
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'width="{CHART_WIDTH}" height="{height}" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
    ]
    for tick in (0, 25, 50, 75, 100):
        x = LABEL_WIDTH + BAR_WIDTH * tick / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{height - 6}" class="grid"/>'
            f'<text x="{x:.1f}" y="{TOP - 10}" class="tick" text-anchor="middle">{tick}%</text>'
        )
    for i, unit in enumerate(rows):
        cell, y = unit["survey"], TOP + ROW_HEIGHT * i
        width = BAR_WIDTH * cell["percent"] / 100
        colour = BAR_COLOURS[cell["status"]]
        tip = f"{unit['name_vi']}: {cell['done']}/{cell['expected']} người ({cell['percent']}%) — {cell['reason_vi']}"
        parts.append(
            f'<g class="bar"><title>{escape(tip)}</title>'
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end" class="name">'
            f"{escape(_short(unit['name_vi']))}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{BAR_WIDTH}" height="16" class="track"/>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" height="16" fill="{colour}"/>'
            f'<text x="{LABEL_WIDTH + BAR_WIDTH + 8}" y="{y + 15}" class="value" fill="{colour}">'
            f"{escape(cell['icon'])} {cell['percent']}% ({cell['done']}/{cell['expected']})</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _render(template: str, **context) -> str:
    return unicodedata.normalize("NFC", _env.get_template(template).render(**context))


def render_overview(
    overview: dict,
    *,
    campaigns: list[dict],
    base: str,
    ui_base: str,
    nonce: str,
    dag_id: str | None = None,
    live: bool = True,
) -> str:
    """The whole page for one campaign. ``base`` is where the dashboard is mounted, ``ui_base`` Airflow's own
    root; ``dag_id`` is set when the page is a tab of that DAG; ``live`` pages update their countdowns."""
    groups = {g["unit_code"]: g for g in overview["mismatch_groups"]}
    by_unit = [
        (code, list(items)) for code, items in groupby(overview["mismatches"], key=lambda m: m["unit_code"])
    ]
    return _render(
        "overview.html",
        o=overview,
        campaigns=campaigns,
        base=base,
        ui_base=ui_base,
        nonce=nonce,
        dag_id=dag_id,
        live=live,
        chart=survey_chart(overview["units"]) if overview["units"] else "",
        groups=groups,
        mismatches_by_unit=by_unit,
    )


def render_reconcile(form: dict, *, base: str, ui_base: str, nonce: str) -> str:
    """The ``par_reconcile`` form, filled in for one unit."""
    return _render("reconcile.html", f=form, base=base, ui_base=ui_base, nonce=nonce)


def render_message(
    title: str,
    text: str,
    *,
    base: str,
    nonce: str,
    login_url: str | None = None,
    campaigns: Sequence[dict] = (),
) -> str:
    """A short page: not logged in, not allowed, not a campaign DAG, unknown campaign."""
    return _render(
        "message.html",
        title=title,
        text=text,
        base=base,
        nonce=nonce,
        login_url=login_url,
        campaigns=campaigns,
    )
