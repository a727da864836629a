"""Reconciliation: the scores on MoHA's software must equal the unit's report (Appendix II).

:func:`find_mismatches` is a pure, vectorised comparison (pandas) of the two sources, key by key (unit,
sub-criterion); :func:`reconcile` runs it for a scope (the campaign, some units, some areas) and replaces that
scope's previous result in the store, so a rerun for one unit changes only that unit's results. The campaign DAG
and ``par_reconcile`` call the same function."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from par_index.campaign import Campaign
from par_index.mismatches import DEFAULT_TOLERANCE, DISAGREEMENTS
from par_index.store.models import CampaignRow, Mismatch, ReceivedFile, Reconciliation, Score
from par_index.text import vn_number

LOCAL = "Asia/Ho_Chi_Minh"
DENSE_KEY_LIMIT = 4_000_000  # unit × code pairs given a slot each (≈ 60 MB of columns) before sorting instead
FRAME_COLUMNS = ["unit", "criterion", "score", "evidence", "explanation", "updated_at", "duplicates"]
ALL_UNITS = "*"  # in :func:`unreconciled_units`: a software export naming no unit, so every unit
SELF_SCORE_FORMS = ("appendix_ii", "portal_export")  # the forms (and feeds) that store self-scores


@dataclass(frozen=True)
class Rules:
    """What the comparison needs to know of Table 2 and Appendix I. ``assigned`` None: any unit may score any
    item (national-scale data without an Appendix I)."""

    max_points: dict[str, float]
    method: dict[str, str]
    leaves: frozenset[str]
    ancestors: dict[str, tuple[str, ...]]  # leaf → its criterion and area codes
    assigned: dict[str, str] | None = None

    @classmethod
    def of(cls, campaign: Campaign) -> Rules:
        """The rules of ``campaign``'s catalogue and Appendix I."""
        cat = campaign.catalogue
        ancestors = {}
        for leaf in cat.leaves:
            parts = leaf.code.split(".")
            ancestors[leaf.code] = tuple(".".join(parts[:n]) for n in range(len(parts) - 1, 0, -1))
        return cls(
            {c: float(i.max_points) for c, i in cat.items.items()},
            {c: i.method or "" for c, i in cat.items.items()},
            frozenset(i.code for i in cat.leaves),
            ancestors,
            dict(campaign.assignment_of),
        )


@dataclass(frozen=True)
class Scope:
    """Which units and areas a reconciliation covers (none: all)."""

    units: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The scope in Vietnamese."""
        parts = [
            f"đơn vị {', '.join(self.units)}" if self.units else "",
            f"lĩnh vực {', '.join(self.areas)}" if self.areas else "",
        ]
        return "; ".join(p for p in parts if p) or "toàn chiến dịch"

    def mask(self, frame: pd.DataFrame) -> pd.Series:
        """The rows of ``frame`` within the scope."""
        keep = pd.Series(True, index=frame.index)
        if self.units:
            keep &= frame["unit"].isin(self.units)
        if self.areas:
            keep &= frame["criterion"].str.split(".", n=1).str[0].isin(self.areas)
        return keep


def _scatter(values: np.ndarray, positions: np.ndarray, size: int, fill) -> np.ndarray:
    out = np.full(size, fill, dtype=values.dtype)  # NaT takes the unit of the values
    out[positions] = values
    return out


def _utc_moments(frame: pd.DataFrame) -> np.ndarray:
    """The 'updated_at' column as naive UTC datetime64 (NaT where unknown)."""
    column = frame["updated_at"]
    if not isinstance(column.dtype, pd.DatetimeTZDtype):  # converting an aware column again is slow
        column = pd.to_datetime(column, utc=True)
    return column.dt.tz_convert(None).to_numpy()


def _local(moment: Any) -> pd.Timestamp:  # a datetime64 element of an array
    return pd.Timestamp(moment).tz_localize("UTC").tz_convert(LOCAL)


def find_mismatches(
    report: pd.DataFrame, portal: pd.DataFrame, rules: Rules, tolerance: float = float(DEFAULT_TOLERANCE)
) -> pd.DataFrame:
    """Every disagreement between the two sources; columns ``unit, criterion, category, report_score,
    portal_score, difference, message``. Inputs have :data:`FRAME_COLUMNS` and one row per key.

    Keys are factorised once into one integer that addresses a slot (see :func:`_slots`), so every test below is
    a numpy operation and text is only made for the rows that disagree (a million rows per source take well under a
    second)."""
    n = len(report)
    units, unit_names = pd.factorize(pd.concat([report["unit"], portal["unit"]], ignore_index=True))
    codes, code_names = pd.factorize(pd.concat([report["criterion"], portal["criterion"]], ignore_index=True))
    unit_names, code_names = np.asarray(unit_names, dtype=object), np.asarray(code_names, dtype=object)
    width = max(len(code_names), 1)
    keys = units.astype(np.int64) * width + codes
    is_leaf = np.fromiter((c in rules.leaves for c in code_names), bool, len(code_names))
    take_r, take_p = is_leaf[codes[:n]], is_leaf[codes[n:]]
    key_r, key_p = keys[:n][take_r], keys[n:][take_p]
    unit_idx, code_idx, pos_r, pos_p = _slots(key_r, key_p, len(unit_names), width)
    size = len(unit_idx)
    has_r, has_p = np.zeros(size, bool), np.zeros(size, bool)
    has_r[pos_r], has_p[pos_p] = True, True

    def column(frame: pd.DataFrame, name: str, fill, dtype) -> np.ndarray:
        """The column of each source, placed by key (``fill`` where that source lacks the key)."""
        values = frame[name].to_numpy(dtype=dtype) if name != "updated_at" else _utc_moments(frame)
        take, positions = (take_r, pos_r) if frame is report else (take_p, pos_p)
        return _scatter(values[take], positions, size, fill)

    score_r, score_p = column(report, "score", np.nan, float), column(portal, "score", np.nan, float)
    ev_r, ev_p = column(report, "evidence", False, bool), column(portal, "evidence", False, bool)
    expl_r = column(report, "explanation", False, bool)
    dup_r, dup_p = column(report, "duplicates", 1, np.int64), column(portal, "duplicates", 1, np.int64)
    time_r, time_p = (column(frame, "updated_at", np.datetime64("NaT"), None) for frame in (report, portal))
    survey = np.array([rules.method.get(c) == "survey" for c in code_names], bool)[code_idx] & (has_r | has_p)
    maximum = np.array([rules.max_points.get(c, np.inf) for c in code_names])[code_idx]
    if rules.assigned is not None:
        position = {name: i for i, name in enumerate(unit_names)}
        owner = np.array([position.get(rules.assigned.get(c), -1) for c in code_names])[code_idx]
        not_assigned = ~survey & (owner != unit_idx) & (has_r | has_p)
    else:
        not_assigned = np.zeros(size, bool)
    ok = ~survey & ~not_assigned & (has_r | has_p)
    both = ok & has_r & has_p
    with np.errstate(invalid="ignore"):
        diff = score_p - score_r
        differs = both & (np.abs(diff) > tolerance + 1e-9)
        above = ok & ((score_r > maximum + 1e-9) | (score_p > maximum + 1e-9))
    no_evidence = ok & has_r & ~ev_r & ~expl_r
    stale = both & ~np.isnat(time_r) & ~np.isnat(time_p) & (time_p > time_r)
    out: list[pd.DataFrame] = []

    def add(mask: np.ndarray, category: str, message) -> None:
        where = np.flatnonzero(mask)
        if not len(where):
            return
        rows = pd.DataFrame(
            {
                "unit": unit_names[unit_idx[where]],
                "criterion": code_names[code_idx[where]],
                "category": category,
                "report_score": score_r[where],
                "portal_score": score_p[where],
                "difference": diff[where],
            }
        )
        rows["message"] = message(rows, where)
        out.append(rows)

    def each(template):
        return lambda rows, where: [
            template(r, i) for r, i in zip(rows.itertuples(index=False), where, strict=True)
        ]

    add(
        survey,
        "survey_self_scored",
        each(
            lambda r, i: (
                f"{r.criterion} do Bộ Nội vụ chấm qua điều tra xã hội học: xóa điểm tự chấm "
                f"({'phần mềm ' + vn_number(r.portal_score) if has_p[i] else 'báo cáo ' + vn_number(r.report_score)})."
            )
        ),
    )
    add(
        not_assigned,
        "not_assigned",
        each(lambda r, _: f"{r.criterion} không giao cho {r.unit}: xóa điểm này khỏi báo cáo và phần mềm."),
    )
    add(
        ok & has_p & ~has_r,
        "only_portal",
        lambda rows, _: (
            rows["criterion"]
            + ": phần mềm có "
            + _fmts(rows["portal_score"])
            + " điểm nhưng báo cáo không có: bổ "
            "sung vào báo cáo hoặc xóa trên phần mềm."
        ),
    )
    add(
        ok & has_r & ~has_p,
        "only_report",
        lambda rows, _: (
            rows["criterion"]
            + ": báo cáo có "
            + _fmts(rows["report_score"])
            + " điểm nhưng phần mềm chưa có: cập "
            "nhật phần mềm."
        ),
    )
    add(
        differs,
        "value_differs",
        lambda rows, _: (
            rows["criterion"]
            + ": báo cáo "
            + _fmts(rows["report_score"])
            + " điểm, phần mềm "
            + _fmts(rows["portal_score"])
            + " điểm (chênh "
            + np.where(rows["difference"] > 0, "+", "")
            + _fmts(rows["difference"])
            + "): sửa cho trùng khớp."
        ),
    )
    add(
        above,
        "above_maximum",
        each(
            lambda r, i: (
                f"{r.criterion}: điểm vượt tối đa {vn_number(maximum[i])} (báo cáo {vn_number(r.report_score)}, "
                f"phần mềm {vn_number(r.portal_score)})."
            )
        ),
    )
    add(
        no_evidence,
        "no_evidence",
        each(
            lambda r, _: f"{r.criterion}: không có tài liệu kiểm chứng và không có giải trình trong báo cáo."
        ),
    )
    add(
        both & ~no_evidence & (ev_r != ev_p),
        "evidence_one_side",
        each(
            lambda r, i: (
                f"{r.criterion}: tài liệu kiểm chứng chỉ có {'trong báo cáo' if ev_r[i] else 'trên phần mềm'}"
                ": bổ sung bên còn thiếu."
            )
        ),
    )
    add(
        stale,
        "stale_report",
        each(
            lambda r, i: (
                f"{r.criterion}: phần mềm được sửa lúc {_local(time_p[i]):%d/%m/%Y %H:%M}, sau khi ký báo "
                f"cáo ({_local(time_r[i]):%d/%m/%Y}): gửi lại báo cáo cho khớp."
            )
        ),
    )
    add(
        (dup_r > 1) | (dup_p > 1),
        "duplicate_rows",
        each(
            lambda r, i: (
                f"{r.criterion} có {max(dup_p[i], dup_r[i])} dòng cho cùng đơn vị "
                f"{'trên phần mềm' if dup_p[i] > 1 else 'trong báo cáo'}: chỉ giữ một dòng."
            )
        ),
    )
    if not is_leaf.all():  # some rows are criteria or areas: check their subtotals
        for source, frame in (("báo cáo", report), ("phần mềm", portal)):
            out += _subtotals(source, frame, rules, tolerance)
    if not out:
        return pd.DataFrame(
            columns=["unit", "criterion", "category", "report_score", "portal_score", "difference", "message"]
        )
    return pd.concat(out, ignore_index=True)


def _slots(key_r: np.ndarray, key_p: np.ndarray, units: int, width: int) -> tuple[np.ndarray, ...]:
    """One slot per key of either source: each slot's unit and code index, and each source's rows' slots.
    Keys are dense (unit index × number of codes + code index), so up to :data:`DENSE_KEY_LIMIT` every possible
    key is a slot (empty ones are simply absent from both sides) and no sorting or searching is needed."""
    if units * width <= DENSE_KEY_LIMIT:
        return (
            np.repeat(np.arange(units, dtype=np.int32), width),
            np.tile(np.arange(width, dtype=np.int32), units),
            key_r,
            key_p,
        )
    all_keys = np.unique(np.concatenate([key_r, key_p]))
    unit_idx, code_idx = np.divmod(all_keys, width)
    return unit_idx, code_idx, np.searchsorted(all_keys, key_r), np.searchsorted(all_keys, key_p)


def _fmts(values: pd.Series) -> pd.Series:
    """:func:`_fmt` of many values, formatting each distinct value once: '1,5', '-0,25'."""
    distinct, inverse = np.unique(values.to_numpy(dtype=float), return_inverse=True)
    return pd.Series(np.array([vn_number(v) for v in distinct], dtype=object)[inverse], index=values.index)


def _subtotals(source: str, frame: pd.DataFrame, rules: Rules, tolerance: float) -> list[pd.DataFrame]:
    """A subtotal row (criterion or area) must equal the sum of its leaves in the same source."""
    leaf_mask = frame["criterion"].isin(rules.leaves)
    stated = frame[~leaf_mask & frame["criterion"].isin(rules.max_points)]
    if stated.empty:
        return []
    leaf = frame[leaf_mask]
    expanded = (
        leaf[["unit", "criterion", "score"]]
        .assign(parent=leaf["criterion"].map(rules.ancestors))
        .explode("parent")
    )
    sums = (
        expanded.groupby(["unit", "parent"], as_index=False)["score"]
        .sum()
        .rename(columns={"parent": "criterion", "score": "sum"})
    )
    joined = stated.merge(sums, on=["unit", "criterion"], how="left").fillna({"sum": 0.0})
    bad = joined[(joined["score"] - joined["sum"]).abs() > tolerance + 1e-9]
    if bad.empty:
        return []
    in_report = source == "báo cáo"
    return [
        pd.DataFrame(
            {
                "unit": bad["unit"].to_numpy(),
                "criterion": bad["criterion"].to_numpy(),
                "category": "subtotal_inconsistent",
                "report_score": bad["score"].to_numpy() if in_report else None,
                "portal_score": None if in_report else bad["score"].to_numpy(),
                "difference": None,
                "message": [
                    f"{c}: tổng ghi {vn_number(s)} điểm trên {source}, cộng các mục con được {vn_number(t)}."
                    for c, s, t in zip(bad["criterion"], bad["score"], bad["sum"], strict=True)
                ],
            }
        )
    ]


def scores_frame(session: Session, campaign: Campaign, source: str) -> pd.DataFrame:
    """One source's scores of the campaign as a DataFrame (one row per unit and criterion)."""
    rows = session.execute(
        select(
            Score.unit_code,
            Score.criterion_code,
            Score.score,
            Score.evidence,
            Score.evidence_count,
            Score.explanation,
            Score.updated_at,
            Score.duplicates,
        ).where(Score.campaign_id == campaign.id, Score.source == source)
    ).all()
    frame = pd.DataFrame(
        rows,
        columns=[
            "unit",
            "criterion",
            "score",
            "evidence_text",
            "evidence_count",
            "explanation",
            "updated_at",
            "duplicates",
        ],
    )
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce").astype(float)
    frame["evidence"] = frame["evidence_text"].fillna("").astype(str).str.len().gt(0) | frame[
        "evidence_count"
    ].fillna(0).astype(float).gt(0)
    frame["explanation"] = frame["explanation"].fillna("").astype(str).str.len().gt(0)
    frame["updated_at"] = pd.to_datetime(frame["updated_at"], utc=True)
    frame["duplicates"] = frame["duplicates"].fillna(1).astype(int)
    return frame[FRAME_COLUMNS]


@dataclass
class Result:
    """What one reconciliation found: rows compared, equal, findings and counts."""

    scope: Scope
    rows_compared: int
    equal: int
    findings: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)
    largest: list[dict] = field(default_factory=list)


def findings_digest(findings: pd.DataFrame) -> str:
    """A unit's findings as one SHA-256 (hex), independent of row order: a table of points to fix is mailed once
    per distinct digest."""
    rows = findings.sort_values(["criterion", "category"])[
        ["criterion", "category", "report_score", "portal_score"]
    ]
    return hashlib.sha256(rows.to_csv(index=False).encode()).hexdigest()


def reconcile(
    session: Session,
    campaign: Campaign,
    scope: Scope = Scope(),
    tolerance: Decimal | float = DEFAULT_TOLERANCE,
    now: datetime | None = None,
) -> Result:
    """Compare the scope's scores and store the result, replacing the previous result for the same units and
    areas (and nothing else)."""
    now = now or datetime.now(UTC)
    # One reconciliation of a campaign at a time: a second one (an overlapping scope, started at the same moment)
    # waits here, then reads what the first stored. SQLite already serialises writers (BEGIN IMMEDIATE).
    session.execute(select(CampaignRow.id).where(CampaignRow.id == campaign.id).with_for_update())
    report, portal = (scores_frame(session, campaign, s) for s in ("report", "portal"))
    report, portal = report[scope.mask(report)], portal[scope.mask(portal)]
    rules = Rules.of(campaign)
    findings = find_mismatches(report, portal, rules, float(tolerance))
    keys_r = set(zip(report["unit"], report["criterion"], strict=True))
    keys_p = set(zip(portal["unit"], portal["criterion"], strict=True))
    disagree = findings[findings["category"].isin(DISAGREEMENTS)]
    equal = len(keys_r & keys_p) - len(disagree[disagree["category"] == "value_differs"])
    counts = findings["category"].value_counts().to_dict()
    diffs = findings[findings["category"] == "value_differs"].assign(
        size=lambda f: f["difference"].astype(float).abs()
    )
    largest = diffs.nlargest(5, "size")[["unit", "criterion", "report_score", "portal_score", "difference"]]
    result = Result(
        scope,
        len(keys_r | keys_p),
        equal,
        findings,
        {k: int(v) for k, v in counts.items()},
        largest.to_dict("records"),
    )
    _store(session, campaign, result, float(tolerance), now)
    return result


def _store(session: Session, campaign: Campaign, result: Result, tolerance: float, now: datetime) -> None:
    run = Reconciliation(
        campaign_id=campaign.id,
        scope=result.scope.label,
        units=list(result.scope.units),
        areas=list(result.scope.areas),
        tolerance=Decimal(str(tolerance)),
        rows_compared=result.rows_compared,
        equal=result.equal,
        counts=result.counts,
        largest=[
            {k: (float(v) if isinstance(v, float) else v) for k, v in row.items()} for row in result.largest
        ],
        finished_at=now,
    )
    session.add(run)
    session.flush()
    stale = delete(Mismatch).where(Mismatch.campaign_id == campaign.id)
    if result.scope.units:
        stale = stale.where(Mismatch.unit_code.in_(result.scope.units))
    if result.scope.areas:
        stale = stale.where(Mismatch.area.in_(result.scope.areas))
    session.execute(stale)

    def number(value) -> Decimal | None:
        return None if value is None or pd.isna(value) else Decimal(str(round(float(value), 2)))

    records = [
        {
            "campaign_id": campaign.id,
            "run_id": run.id,
            "scope": result.scope.label,
            "unit_code": r.unit,
            "criterion_code": r.criterion,
            "area": r.criterion.split(".")[0],
            "category": r.category,
            "report_score": number(r.report_score),
            "portal_score": number(r.portal_score),
            "difference": number(r.difference),
            "message": r.message,
            "found_at": now,
        }
        for r in result.findings.itertuples(index=False)
    ]
    if records:
        session.execute(insert(Mismatch), records)
    session.flush()


def merge_requests(requests: Iterable[tuple[str, Sequence[str]]]) -> dict[str, tuple[str, ...]]:
    """One scope of units per campaign from the requests that started a run (``par_reconcile``'s asset events):
    each is (campaign id, units), no units meaning every unit. A campaign's units are the union of its requests'
    and a request for every unit wins: ``()`` in the result is the whole campaign. Campaigns in id order."""
    merged: dict[str, set[str] | None] = {}
    for campaign_id, units in requests:
        if not units:
            merged[campaign_id] = None
        elif campaign_id not in merged:
            merged[campaign_id] = set(units)
        elif (known := merged[campaign_id]) is not None:
            known.update(units)
    return {cid: () if units is None else tuple(sorted(units)) for cid, units in sorted(merged.items())}


def unreconciled_units(session: Session, campaign: Campaign) -> frozenset[str]:
    """Units whose self-scores (an Appendix II report, a software export or feed snapshot) were stored after the
    last reconciliation covering them (of the whole campaign, or of units including them, all areas), whichever
    path stored them; :data:`ALL_UNITS` for a software export whose rows name no unit. Empty once reconciled."""
    runs = session.execute(
        select(Reconciliation.units, Reconciliation.areas, Reconciliation.finished_at).where(
            Reconciliation.campaign_id == campaign.id
        )
    ).all()
    whole = max((r.finished_at for r in runs if not r.units and not r.areas), default=None)
    last: dict[str, datetime] = {}
    for run in runs:
        if run.units and not run.areas:
            for unit in run.units:
                last[unit] = max(last.get(unit, run.finished_at), run.finished_at)

    def reconciled(unit: str, stored: datetime) -> bool:
        covered = [m for m in (whole, last.get(unit)) if m is not None]
        return bool(covered) and max(covered) >= stored

    files = session.execute(
        select(
            ReceivedFile.id, ReceivedFile.unit_code, ReceivedFile.status, ReceivedFile.registered_at
        ).where(
            ReceivedFile.campaign_id == campaign.id,
            ReceivedFile.form_kind.in_(SELF_SCORE_FORMS),
            ReceivedFile.status.in_(("accepted", "superseded")),
        )
    ).all()
    pending: set[str] = set()
    for file in files:
        if whole is not None and whole >= file.registered_at:
            continue
        units = (
            [file.unit_code]
            if file.unit_code
            else sorted(set(session.scalars(select(Score.unit_code).where(Score.file_id == file.id))))
        )
        if not units and file.unit_code is None and file.status == "accepted":
            pending.add(
                ALL_UNITS
            )  # an export that named no unit (and stored nothing): every unit may have changed
        pending.update(u for u in units if not reconciled(u, file.registered_at))
    return frozenset(pending)
