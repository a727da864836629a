"""Build one campaign DAG per campaign file. Imports nothing heavy: tasks import the library when they run."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from airflow.sdk import DAG, task

from par_index.airflow.sensors import PhaseSensor
from par_index.campaign import PHASE_TITLES, Campaign, campaign_files, load_campaign
from par_index.text import vn_date

OWNER = "so-noi-vu-cchc"


def _doc(campaign: Campaign) -> str:
    d = campaign.directive
    lines = [
        f"# {campaign.title_vi}",
        f"Thực hiện văn bản số {d.number} ({'số văn bản suy luận' if d.number_status == 'inferred' else 'đã xác nhận'})"
        f" của {d.issuer_vi}, ngày {vn_date(d.issued_on)}"
        f"{' (ngày suy luận)' if d.issued_on_status == 'inferred' else ''}, {d.signer_title_vi} {d.signer} ký.",
        "",
        "| Nội dung | Hạn (giờ Việt Nam) |",
        "|---|---|",
    ]
    lines += [f"| {dl.title_vi} | {vn_date(campaign.deadline_at(key))} |" for key, dl in campaign.deadlines.items()]
    lines += ["", "Mỗi nội dung chờ đến khi mọi đơn vị hoàn thành hoặc đến hạn; quá hạn thì ghi nhận đơn vị chậm, "
                  "báo điều phối viên và đi tiếp. Danh mục tiêu chí: "
              f"`{campaign.campaign.catalogue}`"
              + (" (có mục tạm tính, suy luận)." if campaign.catalogue.has_provisional else ".")]
    return "\n".join(lines)


def build_campaign_dag(path: Path) -> DAG:
    campaign = load_campaign(path)
    campaign_file = str(path)
    with DAG(
        dag_id=campaign.dag_id,
        dag_display_name=f"Chiến dịch {campaign.title_vi}",
        description=campaign.directive.title_vi,
        doc_md=_doc(campaign),
        schedule="@once",
        start_date=campaign.starts_at,
        catchup=False,
        max_active_runs=1,
        tags=["par-index", campaign.campaign.province.slug, str(campaign.campaign.year)],
        default_args={"owner": OWNER, "retries": 2, "retry_delay": timedelta(minutes=2)},
    ) as dag:

        @task(task_display_name="Chuẩn bị: cơ sở dữ liệu, đơn vị, phân công")
        def prepare():
            """Upgrade the campaign store and load the campaign's units and Appendix I assignments."""
            from par_index.airflow.runtime import runtime
            from par_index.service import prepare as run

            return run(load_campaign(campaign_file), runtime())

        @task(task_display_name="Đối chiếu phần mềm với báo cáo")
        def reconcile():
            """Find every sub-criterion where MoHA's software and the unit's report disagree or one is missing."""
            from par_index.airflow.runtime import runtime
            from par_index.service import reconcile_scores

            return reconcile_scores(load_campaign(campaign_file), runtime())

        @task(task_display_name="Tổng hợp báo cáo tự đánh giá", trigger_rule="all_done")
        def assemble_report():
            """Build the consolidated workbook (scores, survey, mismatches, late units, nominees)."""
            from par_index.airflow.runtime import runtime
            from par_index.service import assemble_report as run

            return run(load_campaign(campaign_file), runtime())

        ready = prepare()
        closers = {}
        for phase, title in PHASE_TITLES.items():
            deadline = campaign.deadline_at(phase)
            sensor = PhaseSensor(
                task_id=f"collect_{phase}", campaign_file=campaign_file, phase=phase,
                task_display_name=f"Thu nhận: {title} (hạn {vn_date(deadline)})",
                doc_md=f"Đọc hộp thư đến, kiểm tra biểu mẫu, ghi vào kho dữ liệu; chờ đến khi đủ hoặc hết hạn "
                       f"{vn_date(deadline)}.",
            )

            @task(task_id=f"close_{phase}", task_display_name=f"Khép lại: {title}")
            def close(phase: str = phase):
                """Record the phase's outcome and late units, and mail the coordinators."""
                from par_index.airflow.runtime import runtime
                from par_index.service import close_phase

                return close_phase(load_campaign(campaign_file), runtime(), phase)

            closer = close()
            ready >> sensor >> closer
            closers[phase] = closer
        checked = reconcile()
        closers["self_scores"] >> checked
        [closers["nominees"], closers["survey"], checked] >> assemble_report()
    return dag


def build_campaign_dags(folder: Path | None = None) -> list[DAG]:
    return [build_campaign_dag(path) for path in (campaign_files(folder) if folder else campaign_files())]
