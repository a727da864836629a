"""Build one campaign DAG per campaign file. Imports nothing heavy: tasks import the library when they run."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import cast

from airflow.sdk import (  # type: ignore[attr-defined]  # AsyncCallback, DeadlineAlert: exported lazily
    DAG,
    AssetAny,
    CronTriggerTimetable,
    DeadlineAlert,
    Param,
    SyncCallback,
    task,
)

from par_index.airflow.approval import ReportApprovalOperator
from par_index.airflow.assets import SELF_SCORES, announce_self_scores, self_scores_asset
from par_index.airflow.deadline_reference import DirectiveDeadline
from par_index.airflow.deadlines import AwaitComplianceOperator, DeadlineRunOperator
from par_index.airflow.feedback import build_feedback_dag
from par_index.airflow.notifiers import PhaseClosedNotifier
from par_index.airflow.sensors import PhaseSensor
from par_index.campaign import Campaign, PhaseKey, campaign_files, load_campaign, parse_duration
from par_index.errors import CampaignError
from par_index.mismatches import DEFAULT_TOLERANCE
from par_index.paths import setup_dir
from par_index.phase_registry import COLLECTED, PHASES, REQUEST_KINDS
from par_index.text import duration_vi, vn_date, vn_datetime, vn_weekday_datetime

log = logging.getLogger(__name__)
OWNER = "so-noi-vu-cchc"
SENSOR_RETRIES = 3  # a failing check (not a feed: that is recorded and waited out) is retried after one poke


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
    lines += [
        f"| {dl.title_vi} | {vn_date(campaign.deadline_at(key))} |" for key, dl in campaign.deadlines.items()
    ]
    lines += [
        "",
        "Mỗi nội dung chờ đến khi mọi đơn vị hoàn thành hoặc đến hạn; quá hạn thì ghi nhận đơn vị chậm, "
        "báo điều phối viên và đi tiếp. Danh mục tiêu chí: "
        f"`{campaign.campaign.catalogue}`"
        + (" (có mục tạm tính, suy luận)." if campaign.catalogue.has_provisional else "."),
        "",
        f"**Hạn nào đã lỡ?** Xem DAG [{deadlines_title(campaign)}]({deadlines_url(campaign)}) "
        f"(`{deadlines_dag_id(campaign)}`), bảng *Deadlines*: chỉ bốn hạn của văn bản; *Upcoming* là chưa "
        "đến hạn, *Missed* là đến hạn mà còn đơn vị chưa hoàn thành; hạn mọi đơn vị đã hoàn thành đúng hạn "
        "rời khỏi bảng (lần chạy của hạn đó ghi *Met*). Các tác vụ `deadline_*` tạo lần chạy của từng hạn "
        f"(hạn đã qua khi chiến dịch bắt đầu thì bỏ qua). Thư báo trước hạn {_before(campaign)} cho điều "
        "phối viên là nhắc việc, do DAG nhắc việc gửi.",
    ]
    if campaign.campaign.trial:
        lines += [
            "",
            f"**Chiến dịch thử nghiệm** (tạo bởi `make up`, chỉ thị ngày {vn_date(d.issued_on)}): thả tệp "
            f"đơn vị gửi vào `inbox/{campaign.id}/` của thư mục dữ liệu (mặc định `out/`); mỗi tác vụ thu "
            f"nhận đọc hộp thư mỗi {campaign.reminders.sensor_poke}. Thư gửi đến hộp thư cục bộ "
            "(`out/mail/`).",
        ]
    return "\n".join(lines)


def _before(campaign: Campaign) -> str:
    return ", ".join(duration_vi(parse_duration(b)) for b in campaign.reminders.alerts_before)


def deadlines_dag_id(campaign: Campaign) -> str:
    """The id of the campaign's deadlines DAG."""
    return f"{campaign.dag_id}_deadlines"


def deadlines_title(campaign: Campaign) -> str:
    """The deadlines DAG's display name."""
    return f"Hạn của văn bản chỉ đạo — {campaign.title_vi}"


def deadlines_url(campaign: Campaign) -> str:
    """The deadlines DAG's page in the Airflow UI."""
    return campaign.ui_link(deadlines_dag_id(campaign))


def deadline_alert(campaign_file: str) -> DeadlineAlert:
    """The deadlines DAG's one alert: each run's row falls due at the deadline in its conf. The callback
    (``đã đến hạn`` to the coordinators, naming who is late) runs only for a missed one, on a worker through the
    executor (``SyncCallback``: it reads the inbox and the feed and sends mail, no work for the triggerer); it lives
    in an importable module: callbacks never import DAG files."""
    return DeadlineAlert(
        reference=DirectiveDeadline(),
        interval=timedelta(0),
        name="Hạn của văn bản chỉ đạo",
        callback=SyncCallback(
            "par_index.airflow.callbacks.deadline_alert", kwargs={"campaign_file": campaign_file}
        ),
    )


def _deadlines_doc(campaign: Campaign) -> str:
    lines = [
        f"# {deadlines_title(campaign)}",
        f"Bốn hạn của văn bản số {campaign.directive.number} ({campaign.directive.issuer_vi}) cho chiến dịch "
        f"[{campaign.title_vi}]({campaign.ui_link()}), mỗi hạn một lần chạy "
        "(mã lần chạy là mã nội dung, hạn ghi trong conf), do chiến dịch tạo khi bắt đầu.",
        "",
        "| Lần chạy | Nội dung | Hạn (giờ Việt Nam) |",
        "|---|---|---|",
    ]
    lines += [
        f"| `{key}` | {dl.title_vi} | {vn_weekday_datetime(campaign.deadline_at(key))} |"
        for key, dl in campaign.deadlines.items()
    ]
    lines += [
        "",
        "Bảng **Deadlines** của trang này: *Upcoming* — chưa đến hạn, đang chờ; *Missed* — đã đến hạn mà "
        "còn đơn vị chưa hoàn thành (điều phối viên nhận thư “đã đến hạn” kèm danh sách). Hạn mà mọi đơn "
        "vị đã hoàn thành trước hạn rời khỏi bảng; lần chạy của nó ghi *Met*. Báo cáo: hoàn thành khi đã "
        "gửi UBND tỉnh.",
        "",
        "Tác vụ duy nhất chờ trong triggerer, chỉ hỏi kho dữ liệu mỗi vài giây (tác vụ thu nhận của chiến "
        "dịch đọc hộp thư đến); xong trước hạn thì thành công; đến hạn thì trở lại worker, đọc hộp thư lần "
        "cuối rồi bỏ qua (skipped, không phải lỗi). Thư báo trước hạn "
        f"{_before(campaign)} do DAG nhắc việc gửi. Tệp đến trong vài giây cuối trước hạn có thể được "
        "đọc sau hạn: bảng ghi Missed, còn danh sách chậm (theo giờ tệp đến) ghi đúng hạn.",
    ]
    return "\n".join(lines)


def build_deadline_dag(campaign: Campaign, path: Path) -> DAG:
    """``<campaign DAG>_deadlines``: one run per directive deadline, created by the campaign DAG; its Deadlines
    panel shows the directive's deadlines only (:mod:`par_index.airflow.deadlines`). Never paused at creation: a
    run of a paused DAG would wait queued and its deadline be marked missed whatever the units did."""
    campaign_file = str(path)
    with DAG(
        dag_id=deadlines_dag_id(campaign),
        auto_register=False,  # registered by the DAG file; one that failed half-built is dropped
        dag_display_name=deadlines_title(campaign),
        description="Bốn hạn của văn bản chỉ đạo: chờ, đã lỡ (Missed) hay đã đạt (Met)",
        doc_md=_deadlines_doc(campaign),
        schedule=None,
        start_date=campaign.starts_at,
        catchup=False,
        max_active_runs=len(PHASES),  # the four runs wait side by side for weeks
        is_paused_upon_creation=False,
        tags=campaign_tags(campaign, "deadlines"),
        default_args={"owner": OWNER, "retries": 2, "retry_delay": timedelta(minutes=1)},
        deadline=deadline_alert(campaign_file),
    ) as dag:
        AwaitComplianceOperator(
            task_id="await_compliance",
            task_display_name="Chờ mọi đơn vị hoàn thành trước hạn",
            campaign_file=campaign_file,
            doc_md="Chờ trong triggerer (không giữ worker), chỉ hỏi kho dữ liệu: thành công ngay khi mọi đơn vị đã "
            "hoàn thành nội dung của lần chạy (báo cáo: đã gửi UBND tỉnh) trước hạn; đến hạn thì trở lại "
            "worker đọc hộp thư lần cuối, chưa xong thì bỏ qua (skipped), hạn ghi Missed và điều phối viên "
            "nhận thư “đã đến hạn” (gửi từ worker).",
        )
    return dag


def campaign_tags(campaign: Campaign, *kind: str) -> list[str]:
    """The tags of a campaign's DAGs: the project, the DAG's kind, the province and year, and "thử nghiệm" for a
    trial."""
    return ["par-index", *kind, campaign.campaign.province.slug, str(campaign.campaign.year)] + (
        ["thử nghiệm"] if campaign.campaign.trial else []
    )


def build_campaign_dag(campaign: Campaign, path: Path) -> DAG:
    """The campaign's DAG: its phases, reconciliation and report, read from the campaign file at ``path``."""
    campaign_file = str(path)
    with DAG(
        dag_id=campaign.dag_id,
        auto_register=False,  # registered by the DAG file; one that failed half-built is dropped
        dag_display_name=f"Chiến dịch {campaign.title_vi}",
        description=campaign.directive.title_vi,
        doc_md=_doc(campaign),
        schedule="@once",
        start_date=campaign.starts_at,
        catchup=False,
        max_active_runs=1,
        tags=campaign_tags(campaign),
        default_args={"owner": OWNER, "retries": 2, "retry_delay": timedelta(minutes=2)},
    ) as dag:

        @task(task_display_name="Chuẩn bị: cơ sở dữ liệu, đơn vị, phân công")
        def prepare():
            """Upgrade the campaign store, load the campaign's units and Appendix I assignments, and bring the blank
            forms up to date (regenerated when the campaign file or catalogue changed; the log names their folder)."""
            from par_index.airflow.runtime import runtime
            from par_index.service import prepare as run

            return run(load_campaign(campaign_file), runtime())

        @task(task_display_name="Đối chiếu phần mềm với báo cáo", outlets=[SELF_SCORES])
        def reconcile(outlet_events=None):
            """Find every sub-criterion where MoHA's software and the unit's report disagree or one is missing;
            announce self-scores stored meanwhile (``par_reconcile`` runs for them)."""
            from par_index.airflow.runtime import runtime
            from par_index.service import reconcile_scores

            campaign = load_campaign(campaign_file)
            result = reconcile_scores(campaign, runtime())
            return result | {"announced": announce_self_scores(campaign, outlet_events)}

        @task(task_display_name="Tổng hợp báo cáo tự đánh giá", trigger_rule="all_done")
        def assemble_report(run_id=None):
            """Build the workbook and the Word report from the store, as a new build awaiting approval (after a
            rejection and fixes, the rebuild DAG makes a new build and asks again)."""
            from par_index.airflow.runtime import runtime
            from par_index.service import assemble_report as run

            return run(load_campaign(campaign_file), runtime(), run_id=run_id)

        @task(task_display_name="Thông báo nhiệm vụ cho thành viên Hội đồng thẩm định")
        def announce_council():
            """Mail each member of the appraisal council, once, their role in the directive (campaign file)."""
            from par_index.airflow.runtime import runtime
            from par_index.service import notify_council

            return notify_council(load_campaign(campaign_file), runtime())

        ready = prepare()
        ready >> announce_council()
        for (
            phase
        ) in PHASES:  # the directive's deadlines, each a run of the deadlines DAG (its Deadlines panel)
            deadline = campaign.deadline_at(phase)
            title = campaign.deadlines[cast(PhaseKey, phase)].title_vi
            ready >> DeadlineRunOperator(
                task_id=f"deadline_{phase}",
                task_display_name=f"Hạn: {title} ({vn_date(deadline)})",
                deadlines_dag_id=deadlines_dag_id(campaign),
                phase=phase,
                deadline=deadline,
                note=f"{title} — hạn {vn_weekday_datetime(deadline)} (giờ Việt Nam)",
                doc_md=f"Tạo lần chạy `{phase}` của DAG `{deadlines_dag_id(campaign)}` (hạn "
                f"{vn_weekday_datetime(deadline)}): bảng Deadlines của DAG đó ghi hạn này Missed nếu đến hạn "
                "mà còn đơn vị chưa hoàn thành. Hạn đã qua khi chiến dịch bắt đầu (chạy lại chiến dịch cũ) thì "
                "bỏ qua: lần chạy tạo sau hạn bị ghi Missed ngay.",
            )
        closers = {}
        poke = parse_duration(campaign.reminders.sensor_poke)
        for phase in COLLECTED:
            title = campaign.phase_title(phase)
            deadline = campaign.deadline_at(phase)
            sensor = PhaseSensor(
                task_id=f"collect_{phase}",
                campaign_file=campaign_file,
                phase=phase,
                poke_interval=poke.total_seconds(),
                timeout=campaign.collection_lifetime(phase),
                retries=SENSOR_RETRIES,
                retry_delay=poke,
                outlets=[SELF_SCORES],
                task_display_name=f"Thu nhận: {title} (hạn {vn_date(deadline)})",
                doc_md=f"Đọc hộp thư đến, kiểm tra biểu mẫu, ghi vào kho dữ liệu; chờ đến khi đủ hoặc hết hạn "
                f"{vn_date(deadline)}. Giữa hai lần đọc, tác vụ chờ trong triggerer (trạng thái *deferred*, "
                "không giữ worker) và được đánh thức trong vài giây khi có tệp mới, lúc đến hạn, và mỗi "
                f"{campaign.reminders.sensor_poke} để đọc phần mềm của Bộ khi đã kết nối. Sống đến hết hạn "
                f"cộng {campaign.reminders.close_grace} để khép lại; nguồn dữ liệu của Bộ lỗi thì ghi nhận và "
                "chờ tiếp.",
            )

            @task(
                task_id=f"close_{phase}",
                task_display_name=f"Khép lại: {title}",
                trigger_rule="all_done",
                on_success_callback=PhaseClosedNotifier(campaign_file=campaign_file, phase=phase),
                outlets=[SELF_SCORES],
            )
            def close(phase: str = phase, ti=None, outlet_events=None):
                """Record the phase's outcome and late units (the PPC's list); a notifier mails the coordinators.
                Runs also when collection failed (no result from the sensor): then it says so. Announces
                self-scores not yet reconciled (read here, at the deadline, or by another path)."""
                from par_index.airflow.runtime import runtime
                from par_index.service import close_phase

                campaign = load_campaign(campaign_file)
                collected = ti.xcom_pull(task_ids=f"collect_{phase}") if ti is not None else None
                result = close_phase(campaign, runtime(), phase, collection_failed=collected is None)
                return result | {"announced": announce_self_scores(campaign, outlet_events)}

            closer = close()
            ready >> sensor >> closer
            closers[phase] = closer
        checked = reconcile()
        closers["self_scores"] >> checked
        (
            [closers["nominees"], closers["survey"], checked]
            >> assemble_report()
            >> _approval_and_delivery(campaign, campaign_file)
        )
    return dag


def _approval_and_delivery(campaign: Campaign, campaign_file: str):
    """The leader's approval of the build just assembled, then the delivery to the PPC office (skipped on a
    rejection); the same two tasks in the campaign DAG and in its rebuild DAG. Returns the approval task, already
    set upstream of the delivery."""
    approve_report = ReportApprovalOperator(
        task_id="approve_report",
        task_display_name="Lãnh đạo Sở phê duyệt báo cáo",
        campaign=campaign,
        campaign_file=campaign_file,
        response_timeout=campaign.lifetime,
        doc_md="Giám đốc (hoặc Phó Giám đốc) Sở Nội vụ nhận thư kèm báo cáo và đường dẫn; chọn Phê duyệt hoặc "
        "Từ chối (bắt buộc ghi lý do: từ chối không có lý do thì không được ghi nhận và được hỏi lại). Từ chối "
        f"thì không gửi; sửa rồi bấm Trigger ở DAG `{campaign.rebuild_dag_id}` (Lập lại báo cáo).",
    )

    @task(task_display_name=f"Gửi UBND tỉnh (hạn {vn_date(campaign.deadline_at('report'))})")
    def deliver_report():
        """Archive the approved report (SHA-256 in the store) and mail both files to the PPC office."""
        from par_index.airflow.runtime import runtime
        from par_index.service import deliver_report as run

        return run(load_campaign(campaign_file), runtime())

    approve_report >> deliver_report()
    return approve_report


def _on_demand_dag(
    campaign: Campaign, dag_id: str, title_vi: str, *, kind: str, description: str, doc_md: str, params=None
) -> DAG:
    """A campaign's DAG a coordinator triggers from the UI ("<title> — <campaign>"): no schedule, one run at a
    time, tagged ``kind``, every task retried twice (a form that is wrong fails without retrying)."""
    return DAG(
        dag_id=dag_id,
        auto_register=False,  # registered by the DAG file; one that failed half-built is dropped
        dag_display_name=f"{title_vi} — {campaign.title_vi}",
        description=description,
        doc_md=doc_md,
        schedule=None,
        start_date=campaign.starts_at,
        catchup=False,
        max_active_runs=1,
        params=params or {},
        tags=campaign_tags(campaign, kind),
        default_args={"owner": OWNER, "retries": 2, "retry_delay": timedelta(minutes=1)},
    )


def build_rebuild_dag(campaign: Campaign, path: Path) -> DAG:
    """``<campaign DAG>_rebuild_report``: after the leader rejected the report, one Trigger by a coordinator
    makes a new build from the store and asks the leader again; refused unless the latest build was rejected
    (never two builds awaiting the leader)."""
    campaign_file = str(path)
    with _on_demand_dag(
        campaign,
        campaign.rebuild_dag_id,
        "Lập lại báo cáo",
        kind="report",
        description="Sau khi Lãnh đạo Sở từ chối: lập bản báo cáo mới từ dữ liệu đã sửa và trình duyệt lại",
        doc_md=(
            f"# Lập lại báo cáo — {campaign.title_vi}\n"
            "Dùng khi Lãnh đạo Sở đã **từ chối** bản báo cáo mới nhất (lý do trong thư “Báo cáo bị từ chối” và "
            "trên trang tổng quan). Sau khi sửa dữ liệu (đơn vị gửi lại biểu mẫu, đối chiếu lại), bấm "
            "**Trigger**: hệ thống lập bản mới (số lần lập tăng thêm 1) từ kho dữ liệu, gửi thư trình duyệt và "
            "chờ Lãnh đạo Sở quyết định ở mục *Required actions*; phê duyệt thì gửi UBND tỉnh. Bản mới nhất "
            "đang chờ duyệt, đã phê duyệt hay chưa lập thì lần chạy bị từ chối (REP006), không lập bản thứ hai."
        ),
    ) as dag:

        @task(task_display_name="Lập lại báo cáo từ kho dữ liệu")
        def rebuild_report(run_id=None):
            """Assemble a new build after a rejection; a retry of the run returns its build. Refused without
            retrying (REP006) when the latest build was not rejected."""
            from airflow.sdk.exceptions import AirflowFailException

            from par_index.airflow.runtime import runtime
            from par_index.errors import ReportStateError
            from par_index.service import rebuild_report as run

            try:
                return run(load_campaign(campaign_file), runtime(), run_id=run_id)
            except ReportStateError as exc:
                raise AirflowFailException(str(exc)) from exc

        rebuild_report() >> _approval_and_delivery(campaign, campaign_file)
    return dag


def build_import_catalogue_dag(campaign: Campaign, path: Path) -> DAG:
    """``<campaign DAG>_import_catalogue``: the coordinator loads the official Table 2 from a workbook in
    ``<data>/setup/<campaign>/`` (a validated Params form); a dry run prints the diff, "Áp dụng" writes the
    catalogue and remaps the stored codes; without a file name, the current catalogue is exported to start from."""
    campaign_file = str(path)
    folder = f"<thư mục dữ liệu>/setup/{campaign.id}/"
    with _on_demand_dag(
        campaign,
        campaign.import_catalogue_dag_id,
        "Nạp Bảng 2 chính thức",
        kind="catalogue",
        description="Nạp Bảng 2 (mã, tên, điểm tối đa, phương pháp) từ bảng tính: xem thay đổi rồi áp dụng",
        doc_md=(
            f"# Nạp Bảng 2 chính thức — {campaign.title_vi}\n"
            f"1. Bấm **Trigger** để trống *Tên tệp*: hệ thống xuất Bảng 2 hiện hành ra `{folder}"
            f"Bang2_hien_hanh_{campaign.campaign.catalogue}.xlsx`.\n"
            "2. Sửa tệp theo Bảng 2 chính thức của Bộ Nội vụ: ghi mã chính thức ở cột *Mã*, giữ mã tạm ở cột "
            "*Mã tạm*; có thể chỉ giữ vài lĩnh vực (mỗi lĩnh vực đủ tiêu chí và tiêu chí thành phần). Đặt tệp vào "
            f"`{folder}`.\n"
            "3. **Trigger** với *Tên tệp*, *Áp dụng* tắt: xem danh sách thay đổi (hoặc các lỗi, có trang, dòng, "
            "cột) trong nhật ký của tác vụ.\n"
            "4. **Trigger** lại với *Áp dụng* bật: danh mục mới được ghi (bản cũ giữ trong `criteria/history/`), "
            "mục đã nạp thôi là tạm tính, mã tạm trong kho dữ liệu được đổi sang mã chính thức. Chạy lại không đổi "
            "gì thêm."
        ),
        params={
            "file_name": Param(
                "",
                type="string",
                title="Tên tệp bảng tính (.xlsx)",
                description=f"Tệp trong thư mục {folder}; để trống để xuất Bảng 2 hiện hành",
            ),
            "apply": Param(
                False,
                type="boolean",
                title="Áp dụng",
                description="Tắt: chỉ xem thay đổi (chạy thử); bật: ghi danh mục và đổi mã trong kho dữ liệu",
            ),
        },
    ) as dag:

        @task(task_display_name="Nạp Bảng 2: xem thay đổi / áp dụng / xuất")
        def import_catalogue(params=None):
            """Export the current Table 2 (no file name), or print the workbook's diff and, with "Áp dụng", apply
            it. A workbook with errors fails the run without retrying, listing every error."""
            from airflow.sdk.exceptions import AirflowFailException

            from par_index.airflow.runtime import runtime
            from par_index.catalogue_import import import_catalogue as run
            from par_index.errors import CatalogueError

            params = params or {}
            loaded = load_campaign(campaign_file)
            try:
                result = run(
                    loaded.campaign.catalogue,
                    loaded.id,
                    runtime().store_url,
                    params.get("file_name"),
                    bool(params.get("apply")),
                    assignments=loaded.assignments,
                )
            except CatalogueError as exc:
                raise AirflowFailException(str(exc)) from exc
            for line in result["lines"]:
                log.info("%s", line)
            return result

        import_catalogue()
    return dag


def build_setup_dag(campaign: Campaign, path: Path) -> DAG:
    """``<campaign DAG>_setup``: a coordinator exports the campaign to the setup workbook, checks an edited one
    (the differences printed) or applies it to the campaign file (par_index.setup_workbook)."""
    campaign_file = str(path)
    folder = setup_dir(campaign.id)
    with _on_demand_dag(
        campaign,
        campaign.setup_dag_id,
        "Sổ thiết lập chiến dịch",
        kind="setup",
        description="Xuất, kiểm tra, áp dụng sổ Excel: đơn vị, loại đơn vị, đầu mối, Hội đồng, Phụ lục I, khảo sát",
        doc_md=(
            f"# Sổ thiết lập chiến dịch — {campaign.title_vi}\n"
            "Sửa đơn vị, loại đơn vị, thủ trưởng, đầu mối, thành viên Hội đồng thẩm định, Phụ lục I và danh sách "
            "khảo sát bằng Excel, không sửa tệp YAML. **Trigger** với tham số:\n\n"
            f"1. *Xuất*: ghi sổ của chiến dịch hiện tại vào thư mục `{folder}`;\n"
            "2. sửa sổ trong Excel, chép lại vào thư mục đó;\n"
            "3. *Kiểm tra*: in lỗi (trang, dòng, cột) hoặc các thay đổi, chưa ghi gì;\n"
            "4. *Áp dụng*: ghi tệp chiến dịch (bản trước lưu trong thư mục `luu`), danh sách khảo sát đưa vào "
            "hộp thư đến như một tệp đơn vị gửi."
        ),
        params={
            "action": Param(
                "check",
                type="string",
                enum=["export", "check", "apply"],
                values_display={
                    "export": "Xuất sổ từ tệp chiến dịch",
                    "check": "Kiểm tra (chỉ in thay đổi)",
                    "apply": "Áp dụng vào tệp chiến dịch",
                },
                title="Thao tác",
            ),
            "file_name": Param(
                f"so_thiet_lap_{campaign.id}.xlsx",
                type="string",
                pattern=r"^[^/\\]+\.xlsx$",
                title="Tên tệp",
                description=f"Trong thư mục {folder}",
            ),
        },
    ) as dag:

        @task(task_display_name="Sổ thiết lập: xuất, kiểm tra hoặc áp dụng")
        def setup_workbook(params=None):
            """Run the chosen action on the workbook and log its lines; a workbook with errors fails the run
            (its errors in the log), without retrying."""
            from datetime import UTC, datetime

            from airflow.sdk.exceptions import AirflowFailException

            from par_index.airflow.runtime import runtime
            from par_index.errors import ParError
            from par_index.setup_workbook import run_action

            params = params or {}
            try:
                lines = run_action(
                    Path(campaign_file),
                    params["action"],
                    params["file_name"],
                    runtime().store_url,
                    datetime.now(UTC),
                )
            except ParError as exc:
                raise AirflowFailException(str(exc)) from exc
            for line in lines:
                log.info("%s", line)
            return lines

        setup_workbook()
    return dag


def build_request_dag(campaign: Campaign, path: Path) -> DAG:
    """``<campaign DAG>_request``: a coordinator, or an area owner's nominee, sends units a request ("yêu cầu")
    through a Vietnamese form; it is validated and stored (every problem listed in the log, nothing stored), then
    mailed to each recipient unit once."""
    campaign_file = str(path)
    units = [u.code for u in campaign.active_units]
    coordinators = [c.email for c in campaign.contacts.coordinators]
    with _on_demand_dag(
        campaign,
        campaign.request_dag_id,
        "Gửi yêu cầu",
        kind="request",
        description="Yêu cầu đơn vị cung cấp tài liệu kiểm chứng, giao nhiệm vụ, lập dự toán, tham mưu kinh phí",
        doc_md=(
            f"# Gửi yêu cầu — {campaign.title_vi}\n"
            "Bấm **Trigger**, điền biểu mẫu: người yêu cầu (hộp thư của điều phối viên, hoặc của công chức đầu mối "
            "của đơn vị chủ trì lĩnh vực đã cử theo Phụ lục IV), đơn vị nhận, loại yêu cầu, tiêu chí, nội dung, hạn "
            "trả lời, tệp đính kèm (đặt trước vào thư mục `requests/<mã chiến dịch>/` của thư mục dữ liệu). Hạn rơi "
            "vào ngày nghỉ được chuyển sang ngày làm việc kế tiếp (ghi chú trong thư). Biểu mẫu sai: lần chạy thất "
            "bại, nhật ký liệt kê mọi lỗi (REQ001–REQ007), không lưu gì. Gửi lại đúng yêu cầu đã có: không tạo "
            "yêu cầu mới, không gửi thư lần hai. Mỗi yêu cầu có số “YC-01”, “YC-02”…; đơn vị trả lời bằng tệp có "
            "số đó trong tên, gửi về Sở Nội vụ như các biểu mẫu khác."
        ),
        params={
            "requester": Param(
                coordinators[0],
                type="string",
                title="Người yêu cầu (hộp thư)",
                description="Điều phối viên, hoặc công chức đầu mối (Phụ lục IV) của đơn vị chủ trì lĩnh vực",
                examples=coordinators,
            ),
            "recipients": Param(
                [],
                type="array",
                title="Đơn vị nhận",
                description="Một hoặc nhiều đơn vị; mỗi đơn vị được theo dõi riêng",
                examples=units,
                values_display={u.code: f"{u.name_vi} ({u.code})" for u in campaign.active_units},
            ),
            "kind": Param(
                "evidence",
                type="string",
                title="Loại yêu cầu",
                enum=list(REQUEST_KINDS),
                values_display=REQUEST_KINDS,
            ),
            "criteria": Param(
                "",
                type="string",
                title="Tiêu chí",
                description="Mã tiêu chí theo Bảng 2, cách nhau bởi dấu phẩy (bắt buộc với tài liệu kiểm chứng)",
            ),
            "text": Param("", type="string", title="Nội dung yêu cầu", format="multiline"),
            "due": Param(
                None,
                type=["null", "string"],
                format="date",
                title="Hạn trả lời",
                description=(
                    f"Từ hôm nay đến hạn cuối của chiến dịch ({vn_date(campaign.last_due_day)}); ngày nghỉ được "
                    "chuyển sang ngày làm việc kế tiếp"
                ),
            ),
            "attachment": Param(
                None,
                type=["null", "string"],
                title="Tệp đính kèm (không bắt buộc)",
                description=f"Tên tệp trong thư mục requests/{campaign.id}/ của thư mục dữ liệu; tối đa 20 MB",
            ),
        },
    ) as dag:

        @task(task_display_name="Kiểm tra và lưu yêu cầu")
        def store_request(params=None):
            """Validate the form and store the request; an invalid form fails the run without retrying, the log
            listing every problem in Vietnamese (nothing stored)."""
            from airflow.sdk.exceptions import AirflowFailException

            from par_index.airflow.runtime import runtime
            from par_index.errors import RequestError
            from par_index.requests import submit

            try:
                return submit(load_campaign(campaign_file), runtime(), dict(params or {}))
            except RequestError as exc:
                log.error("%s", exc.message)
                raise AirflowFailException(str(exc)) from exc

        @task(task_display_name="Gửi thư yêu cầu đến đơn vị")
        def mail_request(made: dict):
            """Mail the request to each recipient unit (requester in copy), once per unit whatever the retries."""
            from par_index.airflow.runtime import runtime
            from par_index.requests import send

            return send(load_campaign(campaign_file), runtime(), made["number"])

        mail_request(store_request())  # type: ignore[arg-type]  # TaskFlow: an XComArg stands for the dict
    return dag


def build_reminder_dag(campaign: Campaign, path: Path) -> DAG:
    """The campaign's reminder DAG: reminders, overdue notices and the leader's reports on the ladder's
    ticks."""
    campaign_file = str(path)
    ladder = campaign.reminders.ladder
    with (
        DAG(
            dag_id=f"{campaign.dag_id}_reminders",
            auto_register=False,  # registered by the DAG file; one that failed half-built is dropped
            dag_display_name=f"Nhắc việc — {campaign.title_vi}",
            description="Nhắc hạn, quá hạn, báo cáo lãnh đạo; thông báo tài khoản phần mềm cho đầu mối",
            doc_md=(
                f"# Nhắc việc — {campaign.title_vi}\n"
                f"Chạy theo lịch `{campaign.reminders.schedule}` (giờ Việt Nam) từ {vn_date(campaign.starts_at)} đến "
                f"{vn_datetime(campaign.ends_at)}. Mỗi lần chạy: đọc hộp thư đến, gửi lại thư lỗi lần trước, rồi gửi "
                f"bước nhắc đến hạn cho ai chưa hoàn thành: khi bắt đầu (kèm biểu mẫu), trước hạn "
                f"{', '.join(ladder.before)}, ngày hạn, quá hạn mỗi {ladder.overdue_every} tối đa "
                f"{ladder.overdue_times} lần, rồi báo cáo thủ trưởng đơn vị và lãnh đạo Sở Nội vụ. Không gửi trùng, "
                f"không gửi cho người đã hoàn thành hay địa chỉ bị trả lại. Điều phối viên nhận thư báo trước mỗi hạn "
                f"của văn bản ({', '.join(campaign.reminders.alerts_before)}, lúc {campaign.reminders.alert_time} "
                "ngày đó, cả ngày nghỉ) ở lần chạy đầu tiên từ lúc đó, mỗi thư một lần; thư “đã đến hạn” do DAG "
                f"`{deadlines_dag_id(campaign)}` gửi khi hạn bị lỡ."
                + (
                    " Chỉ gửi vào ngày làm việc: bước trước hạn rơi vào thứ Bảy, Chủ nhật, ngày lễ, Tết được gửi vào "
                    "ngày làm việc liền trước; bước quá hạn tính theo ngày làm việc."
                    if ladder.by_working_days
                    else ""
                )
                + "\n\n"
                "Tham số `replay`: chạy lại cả lịch của một chiến dịch đã qua (mỗi ngày một lần như DAG đã chạy)."
            ),
            schedule=CronTriggerTimetable(campaign.reminders.schedule, timezone=campaign.campaign.timezone),
            start_date=campaign.starts_at,
            end_date=campaign.ends_at,
            catchup=False,
            max_active_runs=1,
            dagrun_timeout=campaign.reminder_interval,
            params={
                "replay": Param(
                    False,
                    type="boolean",
                    title="Chạy lại cả lịch nhắc việc",
                    description="Cho chiến dịch đã qua hoặc bản chạy thử",
                )
            },
            tags=campaign_tags(campaign, "reminders"),
            default_args={"owner": OWNER, "retries": 2, "retry_delay": timedelta(minutes=5)},
        ) as dag
    ):

        @task(task_display_name="Gửi nhắc việc và thông báo đến hạn")
        def send_notices(params=None, logical_date=None):
            """Send every reminder, notice and escalation due at this run's scheduled time, and the coordinators'
            notices before a deadline that are due (or the whole calendar when replaying)."""
            from par_index.airflow.runtime import runtime
            from par_index.service import replay_notices
            from par_index.service import send_notices as run

            campaign = load_campaign(campaign_file)
            if (params or {}).get("replay"):
                return replay_notices(campaign, runtime())
            return run(
                campaign, runtime(), logical_date
            )  # the cron tick: the ladder's steps fall on schedule

        @task(task_display_name="Báo có điểm tự chấm mới (đối chiếu tự chạy)", outlets=[SELF_SCORES])
        def announce(result: dict, outlet_events=None):  # noqa: ARG001 - runs after the notices
            """Emit the campaign's self-scores asset event for the units whose self-scores were stored (by this
            run or any other path, e.g. the phase sensor) since their last reconciliation (par_reconcile runs for
            them); skipped, emitting nothing, when there are none."""
            from airflow.sdk.exceptions import AirflowSkipException

            if not announce_self_scores(load_campaign(campaign_file), outlet_events):
                raise AirflowSkipException("Không có điểm tự chấm mới chưa đối chiếu.")

        announce(send_notices())  # type: ignore[arg-type]  # TaskFlow: an XComArg stands for the dict
    return dag


def build_reconcile_dag(campaigns: list[tuple[Campaign, Path]]) -> DAG:
    """``par_reconcile``: mismatch detection on demand (a validated form) and whenever new self-scores land."""
    ids = [c.id for c, _ in campaigns]
    files = {c.id: str(p) for c, p in campaigns}
    units = sorted({u.code for c, _ in campaigns for u in c.active_units})
    areas = sorted({a.code for c, _ in campaigns for a in c.catalogue.areas}, key=int)
    with DAG(
        dag_id="par_reconcile",
        auto_register=False,  # registered by the DAG file; one that failed half-built is dropped
        dag_display_name="Đối chiếu phần mềm chấm điểm với báo cáo",
        description="Chạy lại đối chiếu sau khi đơn vị sửa dữ liệu; tự chạy khi có điểm tự chấm mới",
        doc_md=(
            "# Đối chiếu phần mềm chấm điểm với báo cáo tự chấm điểm\n"
            "Điểm trên phần mềm của Bộ Nội vụ phải trùng khớp với báo cáo (Phụ lục II). Chạy theo yêu cầu "
            "(chọn chiến dịch, đơn vị, lĩnh vực, dung sai) hoặc tự động khi có điểm tự chấm mới, dù được ghi "
            "nhận theo đường nào. Nhiều sự kiện gộp vào một lần chạy: mỗi chiến dịch đối chiếu một lần cho hợp "
            "các đơn vị của nó (sự kiện “mọi đơn vị” bao trùm). Kết quả của phạm vi đã chọn thay kết quả cũ của "
            "đúng phạm vi đó; mỗi đơn vị có sai lệch nhận bảng cần sửa."
        ),
        schedule=AssetAny(*(self_scores_asset(c) for c, _ in campaigns)),
        start_date=min(c.starts_at for c, _ in campaigns),
        catchup=False,
        max_active_runs=1,
        params={
            "campaign": Param(ids[0], type="string", enum=ids, title="Chiến dịch"),
            "units": Param(
                [],
                type="array",
                items={"type": "string", "enum": units},
                title="Đơn vị",
                description="Để trống: mọi đơn vị",
                uniqueItems=True,
            ),
            "areas": Param(
                [],
                type="array",
                items={"type": "string", "enum": areas},
                title="Lĩnh vực",
                description="Để trống: mọi lĩnh vực",
                uniqueItems=True,
            ),
            "tolerance": Param(
                float(DEFAULT_TOLERANCE), type="number", minimum=0, maximum=1, title="Dung sai (điểm)"
            ),
        },
        tags=["par-index", "reconcile"],
        default_args={"owner": OWNER, "retries": 1, "retry_delay": timedelta(minutes=1)},
    ) as dag:

        @task(task_display_name="Đối chiếu và gửi bảng cần sửa", outlets=[SELF_SCORES])
        def reconcile(params=None, triggering_asset_events=None, outlet_events=None):
            """Read new self-score files, compare each campaign's scope, store the results, and notify the units
            concerned. Started by new self-scores: one reconciliation per campaign of the merged events
            (:func:`~par_index.reconcile.merge_requests`); from the form: the chosen campaign and scope. Then
            announces self-scores still not reconciled (outside the scope), so a later run takes them."""
            from decimal import Decimal

            from par_index.airflow.runtime import runtime
            from par_index.reconcile import merge_requests
            from par_index.service import reconcile_scores

            chosen = dict(params or {})
            tolerance = Decimal(str(chosen.get("tolerance", DEFAULT_TOLERANCE)))
            requests = list(self_scores_requests(triggering_asset_events or {}))
            scopes: dict[str, tuple[list[str], list[str]]]
            if requests:  # started by new self-scores: every unit's areas
                scopes = {cid: (list(units), []) for cid, units in merge_requests(requests).items()}
            else:
                scopes = {chosen["campaign"]: (chosen.get("units") or [], chosen.get("areas") or [])}
            results = {}
            for campaign_id, (units, areas) in scopes.items():
                if campaign_id not in files:  # an event of a campaign whose file is gone or cannot be loaded
                    log.error(
                        "Bỏ qua sự kiện điểm tự chấm của chiến dịch %s: không có tệp chiến dịch.", campaign_id
                    )
                    continue
                campaign = load_campaign(files[campaign_id])
                result = reconcile_scores(
                    campaign,
                    runtime(),
                    units=units or None,
                    areas=areas or None,
                    tolerance=tolerance,
                    collect_first=True,
                )
                results[campaign_id] = result | {"announced": announce_self_scores(campaign, outlet_events)}
            return results

        reconcile()
    return dag


def self_scores_requests(triggering_asset_events) -> list[tuple[str, list[str]]]:
    """(campaign id, units) of each self-scores event that started a run; the campaign is the event's own, or its
    asset's (``par://<campaign>/self_scores``) for an event made without one (e.g. by hand in the UI)."""
    return [
        (
            (event.extra or {}).get("campaign") or asset.uri.split("/")[2],
            list((event.extra or {}).get("units") or []),
        )
        for asset, events in triggering_asset_events.items()
        for event in events
    ]


class InvalidCampaignFiles(Exception):
    """Raised by ``dags/par_campaign_files.py``: Airflow shows it in Import Errors, one line per campaign file that
    could not be used."""


def _campaign_dags(path: Path) -> tuple[Campaign, list[DAG]]:
    campaign = load_campaign(path)
    return campaign, [
        build_campaign_dag(campaign, path),
        build_deadline_dag(campaign, path),
        build_reminder_dag(campaign, path),
        build_feedback_dag(campaign, path),
        build_rebuild_dag(campaign, path),
        build_import_catalogue_dag(campaign, path),
        build_setup_dag(campaign, path),
        build_request_dag(campaign, path),
    ]


def _each_campaign(folder: Path | None):
    """(path, campaign, its DAGs, None) for each campaign file, or (path, None, [], the Vietnamese error)."""
    for path in campaign_files(folder) if folder else campaign_files():
        try:
            campaign, built = _campaign_dags(path)
        except CampaignError as exc:
            yield path, None, [], str(exc)
        except Exception as exc:  # noqa: BLE001 - a campaign's data the loader let through: that campaign only
            yield path, None, [], f"không dựng được DAG của chiến dịch: {type(exc).__name__}: {exc}"
        else:
            yield path, campaign, built, None


def build_campaign_dags(folder: Path | None = None) -> list[DAG]:
    """The campaign DAG, its deadlines DAG, its reminder DAG and its feedback DAG for each campaign file, and the
    on-demand reconciliation DAG. A file that cannot be loaded (or built) is left out: it costs only its own DAGs, and
    :func:`check_campaign_files` reports it."""
    campaigns, dags = [], []
    for path, campaign, built, error in _each_campaign(folder):
        if error:
            log.error("Bỏ qua tệp chiến dịch %s: %s", path, error)
            continue
        campaigns.append((campaign, path))
        dags += built
    return dags + ([build_reconcile_dag(campaigns)] if campaigns else [])


def check_campaign_files(folder: Path | None = None) -> None:
    """Raise :class:`InvalidCampaignFiles` naming each campaign file that cannot be used, with the loader's
    message. Called by a DAG file of its own that defines no DAG: Airflow 3.3 marks every DAG of a file with an
    import error stale (``_update_import_errors``), so the error must not belong to ``par_campaigns.py``."""
    errors = {path: error for path, _, _, error in _each_campaign(folder) if error}
    if errors:
        raise InvalidCampaignFiles(
            "\n".join(
                [
                    f"Không nạp được {len(errors)} tệp chiến dịch; các chiến dịch khác vẫn chạy bình thường. Sửa tệp rồi "
                    "lưu lại, Airflow đọc lại sau vài chục giây."
                ]
                + [f"{path}: {error}" for path, error in errors.items()]
            )
        )
