"""The campaign's phases, one entry each: the forms a phase reads from the inbox, the feed it reads from MoHA's
software (when connected), and its judge (who has complied, :func:`par_index.phases.evaluate`). A phase's title is
the campaign file's (``deadlines.<phase>``: :meth:`par_index.campaign.Campaign.phase_title`). Everything keyed by
phase reads this registry. Light on purpose (DAG parsing reads it through the campaign file): a judge is named
here and imported when first used."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from par_index.campaign import Campaign
    from par_index.intake.feeds import PortalClient


def fetch_scores(portal: PortalClient, campaign: Campaign) -> list[list[object]]:
    """The self-scores of every unit assigned a criterion, as MoHA's scoring software holds them."""
    return portal.scores(campaign.campaign.year, sorted(set(campaign.assignment_of.values())))


def fetch_survey_progress(portal: PortalClient, campaign: Campaign) -> list[list[object]]:
    """Each unit's answers to the sociological survey, as MoHA's survey software counts them."""
    return portal.survey_progress(campaign.campaign.year)


@dataclass(frozen=True)
class Feed:
    """A source of MoHA's software: its name, columns and how to fetch its rows."""

    name: str  # the source as the store and the coordinators' mail name it
    columns: list[str]  # the columns of its rows, as the software's export names them
    fetch: Callable[[PortalClient, Campaign], list[list[object]]]


@dataclass(frozen=True)
class Phase:
    """One phase of the campaign: the forms it reads, its judge, its feed and its blank form."""

    key: str
    forms: frozenset[
        str
    ]  # the form kinds it reads from the inbox; none: the report, the coordinating unit's own
    judge_name: (
        str  # its judge in :mod:`par_index.phases`: (session, campaign, state) → fills ``state.units``
    )
    feed: Feed | None = None
    blank_form: str | None = None  # the blank form attached to the units' start notice
    not_applicable_vi: str = ""  # a unit it does not concern, on the dashboard

    @property
    def judge(self) -> Callable:
        """The phase's judge (:mod:`par_index.phases` is imported on first use: the store's models stay out of DAG
        parsing)."""
        from par_index import phases

        return getattr(phases, self.judge_name)

    @property
    def collected(self) -> bool:
        """Units send something for it (the report phase is the coordinating unit's own)."""
        return bool(self.forms)


REGISTRY: dict[str, Phase] = {
    p.key: p
    for p in (
        Phase(
            "nominees",
            frozenset({"appendix_iv", "appendix_iii"}),
            "judge_nominees",
            blank_form="appendix_iv",
            not_applicable_vi="Không phụ trách lĩnh vực",
        ),
        Phase(
            "survey",
            frozenset({"survey_roster", "survey_progress"}),
            "judge_survey",
            Feed(
                "Phần mềm điều tra xã hội học",
                ["Email", "Trạng thái", "Hoàn thành lúc", "Số câu đã trả lời", "Tổng số câu"],
                fetch_survey_progress,
            ),
            not_applicable_vi="Không có trong danh sách khảo sát",
        ),
        Phase(
            "self_scores",
            frozenset({"appendix_ii", "portal_export"}),
            "judge_self_scores",
            Feed(
                "Phần mềm chấm điểm CCHC",
                [
                    "Mã đơn vị",
                    "Mã tiêu chí",
                    "Điểm tự đánh giá",
                    "Số tài liệu kiểm chứng",
                    "Trạng thái",
                    "Cập nhật lúc",
                ],
                fetch_scores,
            ),
            blank_form="appendix_ii",
            not_applicable_vi="Không được giao tiêu chí",
        ),
        Phase("report", frozenset(), "judge_report"),
    )
}
PHASES = tuple(REGISTRY)  # the directive's deadlines, in order
COLLECTED = tuple(k for k, p in REGISTRY.items() if p.collected)  # the phases that collect from units
ALL_FORMS = frozenset().union(*(p.forms for p in REGISTRY.values()))
# The blank forms units fill in, kind → (file name, title), in the order the dashboard lists them; written (and
# kept up to date) by par_index.intake.templates.blank_forms, named here so that what lists them loads no openpyxl
BLANK_FORMS = {
    "appendix_ii": ("phu_luc_ii_bao_cao_tu_cham_diem.xlsx", "PHỤ LỤC II — BÁO CÁO KẾT QUẢ TỰ CHẤM ĐIỂM"),
    "appendix_iv": ("phu_luc_iv_cong_chuc_dau_moi.xlsx", "PHỤ LỤC IV — DANH SÁCH CÔNG CHỨC ĐẦU MỐI"),
    "appendix_iii": ("phu_luc_iii_tai_khoan_phan_mem.xlsx", "PHỤ LỤC III — DANH SÁCH TÀI KHOẢN PHẦN MỀM"),
    "survey_roster": (
        "khao_sat_danh_sach_nguoi_tra_loi.xlsx",
        "DANH SÁCH NGƯỜI TRẢ LỜI PHIẾU KHẢO SÁT XÃ HỘI HỌC",
    ),
}
# The kinds of request (par_index.requests) with their titles in the request form and mails: the request DAG's
# form reads them here, without loading the store.
REQUEST_KINDS = {
    "evidence": "Cung cấp tài liệu kiểm chứng cho tiêu chí (mục 2a)",
    "task": "Giao nhiệm vụ cho công chức đầu mối (mục 1c)",
    "budget": "Lập dự toán kinh phí — Sở Nội vụ phối hợp Sở Tài chính (mục 1c)",
    "funding_advice": "Tham mưu UBND tỉnh bố trí kinh phí — Sở Tài chính (mục 1d)",
    "other": "Yêu cầu khác",
}
