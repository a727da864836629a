"""The provincial report's way to the PPC, kept in the store: each assembly is a numbered build (workbook + Word
report, each with its SHA-256) that is ``awaiting`` approval, then ``rejected`` (with the reason; a newer build
follows after fixes) or ``approved``, then ``delivered`` (archived copies, mailed to the PPC office). A newer build
``supersedes`` one still awaiting a decision."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from par_index.campaign import Campaign
from par_index.errors import ReportStateError
from par_index.files import sha256_of
from par_index.paths import reports_dir
from par_index.phases import BUILD_STATUS_TITLES
from par_index.readers import approver_record
from par_index.report.document import build_document
from par_index.report.figures import ReportFigures, compute
from par_index.report.workbook import build_workbook
from par_index.store.models import ReportBuild, ReportVersion


def assemble(
    session: Session, campaign: Campaign, now: datetime, run_id: str | None = None
) -> tuple[ReportBuild, ReportFigures, dict[str, Path]]:
    """Compute the figures, write the workbook and the Word report, and record them as a new build."""
    figures = compute(session, campaign, now)
    number = (
        session.scalar(select(func.max(ReportBuild.number)).where(ReportBuild.campaign_id == campaign.id))
        or 0
    ) + 1
    session.execute(
        update(ReportBuild)
        .where(ReportBuild.campaign_id == campaign.id, ReportBuild.status == "awaiting")
        .values(status="superseded")
    )
    build = ReportBuild(
        campaign_id=campaign.id, number=number, status="awaiting", created_at=now, run_id=run_id
    )
    session.add(build)
    session.flush()
    folder = reports_dir(campaign.id)
    files = {
        "workbook": build_workbook(session, figures, folder / f"bao_cao_tu_danh_gia_{campaign.id}.xlsx"),
        "docx": build_document(figures, folder / f"bao_cao_tu_danh_gia_{campaign.id}.docx"),
    }
    for kind, path in files.items():
        session.add(
            ReportVersion(
                campaign_id=campaign.id,
                build_id=build.id,
                kind=kind,
                path=str(path),
                sha256=sha256_of(path),
                created_at=now,
            )
        )
    session.flush()
    return build, figures, files


def latest(session: Session, campaign: Campaign) -> ReportBuild | None:
    """The campaign's latest report build, or None."""
    return session.scalar(
        select(ReportBuild)
        .where(ReportBuild.campaign_id == campaign.id)
        .order_by(ReportBuild.number.desc())
        .limit(1)
    )


def files_of(session: Session, build: ReportBuild, prefix: str = "") -> dict[str, ReportVersion]:
    """The build's files by kind ('workbook', 'docx'; with ``prefix='archived_'`` the delivered copies)."""
    rows = session.scalars(select(ReportVersion).where(ReportVersion.build_id == build.id)).all()
    return {
        r.kind.removeprefix(prefix): r
        for r in rows
        if r.kind.startswith(prefix) and (prefix or not r.kind.startswith("archived_"))
    }


def decide(
    session: Session, campaign: Campaign, approved: bool, by: str, at: datetime, reason: str | None
) -> ReportBuild:
    """Record the leader's decision on the build awaiting it; ``by`` is the Airflow login, recorded with the name of
    the person it stands for ("Nguyễn Văn A, Giám đốc Sở Nội vụ (admin)": :func:`readers.approver_record`)."""
    build = latest(session, campaign)
    if build is None or build.status != "awaiting":
        raise ReportStateError(
            f"Không có bản báo cáo nào đang chờ phê duyệt (bản mới nhất: "
            f"{BUILD_STATUS_TITLES.get(build.status, '—') if build else 'chưa lập'}).",
            code="REP001",
        )
    reason = (reason or "").strip() or None
    if not approved and reason is None:
        raise ReportStateError(
            f"Từ chối bản báo cáo lần {build.number} mà không ghi lý do: chưa ghi nhận quyết định, "
            "bản vẫn chờ phê duyệt. Chọn Từ chối và ghi rõ lý do vào ô “Lý do”.",
            code="REP005",
        )
    build.status = "approved" if approved else "rejected"
    build.decided_by, build.decided_at = approver_record(campaign, by), at
    build.reason = reason
    session.flush()
    return build


def check_rebuild(session: Session, campaign: Campaign) -> ReportBuild:
    """The rejected build a rebuild replaces; refused (REP006) unless the latest build was rejected, so that a
    campaign never has two builds awaiting the leader and an approved report is not rebuilt."""
    build = latest(session, campaign)
    if build is None or build.status != "rejected":
        state = (
            f"bản lần {build.number}: {BUILD_STATUS_TITLES[build.status].lower()}"
            if build
            else "chưa lập bản nào; báo cáo được lập trong DAG của chiến dịch"
        )
        raise ReportStateError(
            f"Chỉ lập lại báo cáo sau khi Lãnh đạo Sở từ chối bản mới nhất ({state}).", code="REP006"
        )
    return build


def archive(session: Session, campaign: Campaign, build: ReportBuild, now: datetime) -> dict[str, Path]:
    """Copy the approved build's files to ``reports/<campaign>/luu_tru/lan_NN/`` and record the copies with their
    SHA-256 (which must equal the files as approved). Idempotent: an archived build returns its copies."""
    done = files_of(session, build, "archived_")
    if done:
        return {kind: Path(v.path) for kind, v in done.items()}
    if build.status != "approved":
        raise ReportStateError(
            f"Bản báo cáo lần {build.number} chưa được phê duyệt ({BUILD_STATUS_TITLES[build.status]}).",
            code="REP002",
        )
    folder = reports_dir(campaign.id) / "luu_tru" / f"lan_{build.number:02d}"
    folder.mkdir(parents=True, exist_ok=True)
    copies = {}
    for kind, version in files_of(session, build).items():
        source = Path(version.path)
        if sha256_of(source) != version.sha256:
            raise ReportStateError(
                f"Tệp {source.name} đã bị thay đổi sau khi lập bản lần {build.number}: lập lại "
                "báo cáo và trình duyệt lại.",
                code="REP003",
            )
        target = folder / source.name
        shutil.copy2(source, target)
        session.add(
            ReportVersion(
                campaign_id=campaign.id,
                build_id=build.id,
                kind=f"archived_{kind}",
                path=str(target),
                sha256=sha256_of(target),
                created_at=now,
            )
        )
        copies[kind] = target
    session.flush()
    return copies
