"""A campaign at a glance, as of a moment: each deadline with its countdown and late units, the unit × phase matrix,
survey completion, open mismatches and the latest mail, read from the campaign file and the store.

Lateness comes from :func:`par_index.phases.evaluate`, as the sensors, alerts and report judge it. Every value is
JSON-able; every text a person reads is Vietnamese (NFC), dates dd/mm/yyyy in the campaign's time zone."""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import cast

from sqlalchemy import create_engine, event, func, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from par_index import collection_failures, phases, requests
from par_index.campaign import Campaign, PhaseKey
from par_index.mismatches import CATEGORY_TITLES, DEFAULT_TOLERANCE
from par_index.phase_registry import BLANK_FORMS, COLLECTED, PHASES, REGISTRY
from par_index.store.db import engine_for
from par_index.store.models import (
    CampaignRow,
    Mismatch,
    Notification,
    PhaseOutcome,
    ReceivedFile,
    Reconciliation,
    Score,
)
from par_index.text import vn_date, vn_datetime

RECONCILE_DAG_ID = "par_reconcile"
NOTIFICATIONS_SHOWN = 15
STATUS_OF_REASON = {
    "ok": "ok",
    "pending": "pending",
    "late": "late",
    "missing": "bad",
    "invalid": "bad",
    "incomplete": "bad",
}
STATUS_ICONS = {"ok": "✓", "pending": "○", "late": "!", "bad": "✗", "none": "–"}
OUTCOME_TITLES = {
    "sent": "Đã gửi",
    "failed": "Gửi lỗi (sẽ gửi lại)",
    "queued": "Chờ gửi",
    "sending": "Đang gửi",
    "dropped": "Không gửi nữa",
}
OUTCOME_STATUS = {"sent": "ok", "failed": "bad", "queued": "pending", "sending": "pending", "dropped": "none"}


def vn_points(value: float | Decimal | None) -> str:
    """'1,5'; '—' when unknown."""
    return "—" if value is None else f"{float(value):g}".replace(".", ",")


def countdown_vi(delta: timedelta) -> str:
    """'còn 3 ngày 4 giờ', 'còn 45 phút', 'quá hạn 2 ngày' (days and hours, or hours and minutes)."""
    seconds = int(delta.total_seconds())
    ahead, seconds = seconds >= 0, abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    if days:
        span = f"{days} ngày" + (f" {hours} giờ" if hours else "")
    elif hours:
        span = f"{hours} giờ" + (f" {minutes} phút" if minutes else "")
    else:
        span = f"{minutes} phút"
    return f"còn {span}" if ahead else f"quá hạn {span}"


def nfc_tree(value):
    """``value`` with every string in Unicode NFC (texts from files and mails may be decomposed)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {k: nfc_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [nfc_tree(v) for v in value]
    return value


@lru_cache(maxsize=8)
def read_engine(url: str) -> Engine:
    """An engine for reading only. On SQLite, the store's own engine takes the write lock at every BEGIN (so that
    writers never interleave); a reader must not wait for, or hold up, the tasks that write."""
    if not url.startswith("sqlite"):
        return engine_for(url)
    engine = create_engine(url, future=True)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    return engine


def describe(campaign: Campaign) -> dict:
    """The campaign's identity, directive and what in its files is inferred rather than confirmed."""
    d, catalogue = campaign.directive, campaign.catalogue
    inferred = []
    if d.number_status == "inferred":
        inferred.append("Số hiệu văn bản chỉ đạo")
    if d.issued_on_status == "inferred":
        inferred.append("Ngày ban hành văn bản chỉ đạo")
    if campaign.assignments_status == "inferred":
        inferred.append("Phân công tiêu chí (Phụ lục I)")
    if campaign.council.status == "inferred":
        inferred.append("Danh sách Hội đồng thẩm định")
    if campaign.contacts.status == "sample":
        inferred.append("Địa chỉ thư liên hệ (địa chỉ mẫu)")
    if campaign.council.members_status == "sample" and campaign.council.members:
        inferred.append(
            f"Thành viên Hội đồng thẩm định ({len(campaign.council.members)} người, họ tên và hộp thư mẫu)"
        )
    if campaign.report.signer_status == "sample" and campaign.report.signer:
        inferred.append(f"Người ký báo cáo (họ tên mẫu: {campaign.report.signer})")
    provisional = [item for item in catalogue.items.values() if item.provisional]
    return {
        "id": campaign.id,
        "dag_id": campaign.dag_id,
        "title_vi": campaign.title_vi,
        "year": campaign.campaign.year,
        "province_vi": campaign.campaign.province.name_vi,
        "timezone": campaign.campaign.timezone,
        "units": len(campaign.active_units),
        # the unit matrix's column titles: the campaign file's names of the phases collected from units
        "phase_titles": {phase: campaign.phase_title(phase) for phase in COLLECTED},
        "directive": {
            "issuer_vi": d.issuer_vi,
            "number": d.number,
            "title_vi": d.title_vi,
            "issued_on": d.issued_on.isoformat(),
            "issued_on_vi": vn_date(d.issued_on),
            "signer": d.signer,
            "signer_title_vi": d.signer_title_vi,
        },
        "catalogue": {
            "code": catalogue.code,
            "name_vi": catalogue.name_vi,
            "total_items": len(catalogue.items),
            "provisional_items": len(provisional),
            "note_vi": catalogue.note_vi,
        },
        "inferred_vi": inferred,
        # what a coordinator does in the Airflow UI, without a developer (each a manual DAG with a Vietnamese form)
        "actions": [
            {"title_vi": "Gửi yêu cầu", "dag_id": campaign.request_dag_id},
            {"title_vi": "Sổ thiết lập chiến dịch", "dag_id": campaign.setup_dag_id},
            {"title_vi": "Nạp Bảng 2 chính thức", "dag_id": campaign.import_catalogue_dag_id},
            {"title_vi": "Lập lại báo cáo", "dag_id": campaign.rebuild_dag_id},
        ],
        "blank_forms": [  # downloaded from the dashboard (regenerated when stale)
            {"kind": kind, "title_vi": title, "file_name": file_name}
            for kind, (file_name, title) in BLANK_FORMS.items()
        ],
    }


def find_campaign(campaigns: list[Campaign], key: str) -> Campaign | None:
    """A campaign by its id, its DAG id, its deadlines DAG's or its reminder DAG's id."""
    for campaign in campaigns:
        if key in (
            campaign.id,
            campaign.dag_id,
            f"{campaign.dag_id}_deadlines",
            f"{campaign.dag_id}_reminders",
        ):
            return campaign
    return None


def reconcile_conf(campaign: Campaign, unit_code: str, areas: Sequence[str] = ()) -> dict:
    """The ``par_reconcile`` form's values for rerunning one unit's reconciliation."""
    return {
        "campaign": campaign.id,
        "units": [unit_code],
        "areas": sorted(areas, key=int),
        "tolerance": float(DEFAULT_TOLERANCE),
    }


def reconcile_choices(campaigns: list[Campaign]) -> dict:
    """What ``par_reconcile``'s form accepts (the same lists as the DAG's params), with names."""
    units = {code: name for c in campaigns for code, name in c.unit_names.items()}
    areas = {a.code: a.name_vi for c in campaigns for a in c.catalogue.areas}
    return {
        "campaigns": [{"id": c.id, "title_vi": c.title_vi} for c in campaigns],
        "units": [{"code": code, "name_vi": units[code]} for code in sorted(units)],
        "areas": [{"code": code, "name_vi": areas[code]} for code in sorted(areas, key=int)],
        "tolerance": float(DEFAULT_TOLERANCE),
    }


def _has_store(campaign: Campaign, engine: Engine) -> bool:
    if not inspect(engine).has_table("campaigns"):
        return False
    with Session(engine) as s:
        return s.get(CampaignRow, campaign.id) is not None


def _cell(status: phases.UnitStatus | None, phase: str) -> dict:
    if status is None:
        return {
            "applies": False,
            "reason": "none",
            "status": "none",
            "icon": STATUS_ICONS["none"],
            "reason_vi": REGISTRY[phase].not_applicable_vi,
            "detail": "",
        }
    css = STATUS_OF_REASON[status.reason]
    return {
        "applies": True,
        "reason": status.reason,
        "status": css,
        "icon": STATUS_ICONS[css],
        "reason_vi": phases.REASON_TITLES[status.reason],
        "detail": status.detail,
    }


def _deadline(
    campaign: Campaign,
    phase: str,
    state: phases.PhaseState | None,
    outcome: PhaseOutcome | None,
    now: datetime,
) -> dict:
    due = campaign.deadline_at(phase).astimezone(campaign.tz)
    passed = now > due
    entry = {
        "phase": phase,
        "title_vi": campaign.deadlines[cast(PhaseKey, phase)].title_vi,
        "due": due.isoformat(),
        "due_vi": vn_datetime(due),
        "due_date_vi": vn_date(due),
        "seconds_left": int((due - now).total_seconds()),
        "countdown_vi": countdown_vi(due - now),
        "passed": passed,
        "closed": None,
        "laggards": [],
        "expected": 0,
        "done": 0,
        "status": "none",
        "status_vi": "Chưa có dữ liệu",
    }
    if outcome is not None:
        complete = outcome.status == "complete"
        entry["closed"] = {
            "status": outcome.status,
            "collection_failed": outcome.collection_failed,
            "closed_at_vi": vn_datetime(outcome.closed_at.astimezone(campaign.tz)),
            "status_vi": "Đã khép lại: đủ" if complete else "Đã khép lại khi chưa đủ",
        }
    if state is None:
        return entry
    names = {u.code: u.name_vi for u in campaign.units}
    laggards = state.laggards
    entry.update(
        expected=len(state.units),
        done=len(state.units) - len(laggards),
        laggards=[
            {"unit_code": s.unit_code, "unit_name": names.get(s.unit_code, s.unit_code), **_cell(s, phase)}
            for s in laggards
        ],
    )
    if not laggards:
        entry["status"], entry["status_vi"] = "ok", "Đã hoàn thành"
    elif passed:
        entry["status"], entry["status_vi"] = "bad", f"Quá hạn: {len(laggards)} đơn vị chưa đạt"
    else:
        entry["status"] = "pending"
        entry["status_vi"] = f"Đang thu nhận: {entry['done']}/{entry['expected']} đơn vị đạt"
    return entry


def build_overview(
    campaign: Campaign, store_url: str, now: datetime | None = None, notifications: int = NOTIFICATIONS_SHOWN
) -> dict:
    """Everything the dashboard shows for ``campaign`` as of ``now`` (default: now); JSON-able."""
    from par_index.readers import MAIL_KINDS
    from par_index.store import queries

    now = (now or datetime.now(UTC)).astimezone(campaign.tz)
    overview = {
        "campaign": describe(campaign),
        "as_of": now.isoformat(),
        "as_of_vi": vn_datetime(now),
        "has_data": False,
        "units": [],
        "mismatches": [],
        "mismatch_groups": [],
        "reconciliation": None,
        "notifications": [],
        "mail_totals": {},
        "collection_failures": [],
        "files": [],
        "requests": [],
        "requests_open": 0,
        "budget_vi": _budget_vi(campaign, []),
    }
    engine = read_engine(store_url)
    if not _has_store(campaign, engine):
        overview["deadlines"] = [_deadline(campaign, p, None, None, now) for p in PHASES]
        return nfc_tree(overview)
    with Session(engine) as s:
        states = {phase: phases.evaluate(s, campaign, phase, now) for phase in PHASES}
        outcomes = {
            o.phase: o for o in s.scalars(select(PhaseOutcome).where(PhaseOutcome.campaign_id == campaign.id))
        }
        points = dict(
            s.execute(
                select(Score.unit_code, func.sum(Score.score))
                .join(ReceivedFile, ReceivedFile.id == Score.file_id)
                .where(
                    Score.campaign_id == campaign.id, Score.source == "report", ReceivedFile.arrived_at <= now
                )
                .group_by(Score.unit_code)
            ).all()
        )
        found = s.scalars(
            select(Mismatch)
            .where(Mismatch.campaign_id == campaign.id, Mismatch.found_at <= now)
            .order_by(Mismatch.unit_code, Mismatch.criterion_code, Mismatch.category)
        ).all()
        last_run = s.scalar(
            select(Reconciliation)
            .where(Reconciliation.campaign_id == campaign.id, Reconciliation.finished_at <= now)
            .order_by(Reconciliation.finished_at.desc())
            .limit(1)
        )
        moment = func.coalesce(Notification.sent_at, Notification.last_attempt_at)
        mails = s.scalars(
            select(Notification)
            .where(Notification.campaign_id == campaign.id, moment <= now)
            .order_by(moment.desc(), Notification.id.desc())
            .limit(notifications)
        ).all()
        failures = [
            {
                "time_vi": vn_datetime(f.occurred_at.astimezone(campaign.tz)),
                "phase": f.phase,
                "phase_title": campaign.phase_title(f.phase) if f.phase in COLLECTED else f.phase,
                "source": f.source,
                "code": f.code,
                "message": f.message,
                "reported_vi": vn_datetime(f.reported_at.astimezone(campaign.tz))
                if f.reported_at and f.reported_at <= now
                else "Chưa",
            }
            for f in collection_failures.recent(s, campaign, now)
        ]
        files = _files(campaign, queries.received_files(s, campaign, until=now))
        open_requests = requests.open_requests(s, campaign, now.date(), until=now)
        budget = requests.statuses(s, campaign, "budget", until=now)
        mail_totals = dict(
            s.execute(
                select(Notification.outcome, func.count())
                .where(Notification.campaign_id == campaign.id, moment <= now)
                .group_by(Notification.outcome)
            ).all()
        )

    overview["has_data"] = True
    overview["collection_failures"] = failures
    overview["deadlines"] = [_deadline(campaign, p, states[p], outcomes.get(p), now) for p in PHASES]
    overview["units"] = _matrix(campaign, states, points, found, last_run is not None, files)
    overview["files"] = files
    overview["requests"] = _requests(campaign, open_requests)
    overview["requests_open"] = len(open_requests)
    overview["budget_vi"] = _budget_vi(campaign, budget, now)
    overview["mismatches"], overview["mismatch_groups"] = _mismatches(campaign, found, CATEGORY_TITLES)
    if last_run is not None:
        overview["reconciliation"] = {
            "finished_at_vi": vn_datetime(last_run.finished_at.astimezone(campaign.tz)),
            "scope_vi": last_run.scope,
            "rows_compared": last_run.rows_compared,
            "equal": last_run.equal,
        }
    overview["notifications"] = [
        {
            "time_vi": vn_datetime((m.sent_at or m.last_attempt_at).astimezone(campaign.tz)),
            "template": m.template,
            "kind_vi": MAIL_KINDS.get(m.template, m.template),
            "subject": m.subject,
            "recipients": list(m.recipients),
            "phase": m.phase,
            "unit_code": m.unit_code,
            "outcome": m.outcome,
            "outcome_vi": OUTCOME_TITLES.get(m.outcome, m.outcome),
            "status": OUTCOME_STATUS.get(m.outcome, "none"),
        }
        for m in mails
    ]
    overview["mail_totals"] = {
        k: {"count": v, "outcome_vi": OUTCOME_TITLES.get(k, k)} for k, v in mail_totals.items()
    }
    return nfc_tree(overview)


def _requests(campaign: Campaign, items: list[requests.OpenRequest]) -> list[dict]:
    """Open requests grouped by unit, in the campaign's unit order: number, kind, due day, overdue marker."""
    by_unit: dict[str, list[dict]] = defaultdict(list)
    for o in items:
        by_unit[o.unit_code].append(
            {"label": o.label, "kind_vi": o.kind_title, "due_vi": vn_date(o.due), "overdue": o.overdue}
        )
    return [
        {
            "unit_code": u.code,
            "unit_name": u.name_vi,
            "open": by_unit[u.code],
            "overdue": sum(i["overdue"] for i in by_unit[u.code]),
        }
        for u in campaign.active_units
        if u.code in by_unit
    ]


def _budget_vi(campaign: Campaign, budget: list[requests.RequestStatus], now: datetime | None = None) -> str:
    """The budget estimate's status: from its requests when there are any, else the campaign file's."""
    from par_index.campaign import BUDGET_STATUS_TITLES

    if budget and now is not None:
        text = "; ".join(requests.budget_status(campaign, r, now) for r in budget)
        return f"{text[:1].upper()}{text[1:]}."
    b = campaign.budget
    return (
        f"{BUDGET_STATUS_TITLES[b.status]} (theo tệp chiến dịch)"
        + (f": {b.document}" if b.document else "")
        + "."
    )


def _matrix(
    campaign: Campaign,
    states: dict[str, phases.PhaseState],
    points: dict[str, Decimal | None],
    found: Sequence[Mismatch],
    reconciled: bool,
    files: list[dict],
) -> list[dict]:
    open_by_unit = Counter(m.unit_code for m in found)
    files_of = {g["unit_code"]: g for g in files}
    rows = []
    for unit in campaign.active_units:
        survey = states["survey"].units.get(unit.code)
        nominees = _cell(states["nominees"].units.get(unit.code), "nominees")
        nominees["count"] = states["nominees"].units[unit.code].done if nominees["applies"] else 0
        scores = _cell(states["self_scores"].units.get(unit.code), "self_scores")
        scores["points"] = (
            float(cast(Decimal, points[unit.code])) if points.get(unit.code) is not None else None
        )
        scores["points_vi"] = vn_points(scores["points"])
        scores["criteria"] = states["self_scores"].units[unit.code].expected if scores["applies"] else 0
        survey_cell = _cell(survey, "survey")
        done, expected = (survey.done, survey.expected) if survey else (0, 0)
        survey_cell.update(
            done=done, expected=expected, percent=round(100 * done / expected) if expected else 0
        )
        count = open_by_unit.get(unit.code, 0)
        owns = scores["applies"]
        if count:
            mismatch = {
                "open": count,
                "status": "bad",
                "icon": STATUS_ICONS["bad"],
                "text_vi": f"{count} sai lệch",
            }
        elif reconciled and owns:
            mismatch = {"open": 0, "status": "ok", "icon": STATUS_ICONS["ok"], "text_vi": "Khớp"}
        else:
            mismatch = {
                "open": 0,
                "status": "none",
                "icon": STATUS_ICONS["none"],
                "text_vi": "Chưa đối chiếu" if owns else "Không áp dụng",
            }
        rows.append(
            {
                "code": unit.code,
                "name_vi": unit.name_vi,
                "kind": unit.kind,
                "kind_vi": unit.kind_def.title_vi,
                "nominees": nominees,
                "survey": survey_cell,
                "self_scores": scores,
                "mismatches": mismatch,
                "files": _files_cell(files_of.get(unit.code)),
            }
        )
    return rows


def _files(campaign: Campaign, received: list) -> list[dict]:
    """The received files grouped by sender: the campaign's units in order, then files from no known unit."""
    # intake's form titles, loaded when a page is built, not when the app starts
    from par_index.received import UNKNOWN_SENDER_VI, file_view

    groups: dict[str | None, list[dict]] = defaultdict(list)
    shown = {f.id for f, _ in received}  # the files arrived by the moment shown
    for f, issues in received:
        code = f.unit_code if f.unit_code in campaign.unit_by_code else None
        groups[code].append(file_view(campaign, f, issues, superseded_yet=f.superseded_by in shown))
    order = [u.code for u in campaign.units if u.code in groups] + ([None] if None in groups else [])
    return [
        {
            "unit_code": code,
            "unit_name": campaign.unit_by_code[code].name_vi if code else UNKNOWN_SENDER_VI,
            "anchor": f"tep-{code or 'khac'}",
            "received": len(groups[code]),
            "refused": sum(1 for v in groups[code] if v["status"] == "rejected"),
            "files": groups[code],
        }
        for code in order
    ]


def _files_cell(group: dict | None) -> dict:
    if group is None:
        return {"received": 0, "refused": 0, "status": "none", "text_vi": "Chưa nhận tệp nào", "anchor": None}
    refused = group["refused"]
    text = f"{group['received']} tệp" + (f", {refused} bị từ chối" if refused else "")
    return {
        "received": group["received"],
        "refused": refused,
        "status": "bad" if refused else "ok",
        "text_vi": text,
        "anchor": group["anchor"],
    }


def _mismatches(
    campaign: Campaign, found: Sequence[Mismatch], titles: dict[str, str]
) -> tuple[list[dict], list[dict]]:
    catalogue = campaign.catalogue
    names = {u.code: u.name_vi for u in campaign.units}
    items, groups = [], defaultdict(list)
    for m in found:
        item = catalogue.items.get(m.criterion_code)
        entry = {
            "unit_code": m.unit_code,
            "unit_name": names.get(m.unit_code, m.unit_code),
            "criterion_code": m.criterion_code,
            "criterion_name": item.name_vi if item else "",
            "provisional": bool(item and item.provisional),
            "area": m.area or m.criterion_code.split(".")[0],
            "category": m.category,
            "category_vi": titles.get(m.category, m.category),
            "report_score": None if m.report_score is None else float(m.report_score),
            "portal_score": None if m.portal_score is None else float(m.portal_score),
            "difference": None if m.difference is None else float(m.difference),
            "report_score_vi": vn_points(m.report_score),
            "portal_score_vi": vn_points(m.portal_score),
            "difference_vi": vn_points(m.difference),
            "message": m.message,
            "found_at_vi": vn_datetime(m.found_at.astimezone(campaign.tz)),
        }
        items.append(entry)
        groups[m.unit_code].append(entry)
    return items, [
        {
            "unit_code": code,
            "unit_name": names.get(code, code),
            "count": len(entries),
            "areas": sorted({e["area"] for e in entries}, key=lambda a: (len(a), a)),
            "reconcile_conf": reconcile_conf(campaign, code),
        }
        for code, entries in groups.items()
    ]


def campaign_list(campaigns: list[Campaign]) -> list[dict]:
    """The campaigns a coordinator can open, newest first."""
    return nfc_tree(
        [
            {
                "id": c.id,
                "dag_id": c.dag_id,
                "title_vi": c.title_vi,
                "year": c.campaign.year,
                "province_vi": c.campaign.province.name_vi,
                "deadlines": {p: c.deadline_at(p).isoformat() for p in PHASES},
            }
            for c in sorted(campaigns, key=lambda c: (-c.campaign.year, c.id))
        ]
    )


def reconcile_form(
    campaigns: list[Campaign], campaign: Campaign, unit_code: str, store_url: str
) -> dict | None:
    """``par_reconcile``'s form filled in for one unit of ``campaign``, with the unit's open mismatches;
    ``None`` for a unit the campaign does not have."""
    import json

    unit = campaign.unit_by_code.get(unit_code)
    if unit is None:
        return None
    found: Sequence[Mismatch] = []
    engine = read_engine(store_url)
    if _has_store(campaign, engine):
        with Session(engine) as s:
            found = s.scalars(
                select(Mismatch)
                .where(
                    Mismatch.campaign_id == campaign.id,
                    Mismatch.unit_code == unit.code,
                )
                .order_by(Mismatch.criterion_code, Mismatch.category)
            ).all()
    conf = reconcile_conf(campaign, unit.code)
    return nfc_tree(
        {
            "dag_id": RECONCILE_DAG_ID,
            "campaign": {"id": campaign.id, "title_vi": campaign.title_vi},
            "unit": {"code": unit.code, "name_vi": unit.name_vi},
            "conf": conf,
            "conf_json": json.dumps(conf, ensure_ascii=False, indent=2),
            "note": f"Chạy lại đối chiếu từ bảng điều khiển chiến dịch: {unit.name_vi} ({unit.code})",
            "choices": reconcile_choices(campaigns),
            "open": _mismatches(campaign, found, CATEGORY_TITLES)[0],
        }
    )
