"""Build one campaign DAG per campaign file. Imports nothing heavy: tasks import the library when they run."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from airflow.sdk import (
    DAG,
    Asset,
    AssetAny,
    AsyncCallback,
    CronTriggerTimetable,
    DeadlineAlert,
    DeadlineReference,
    Param,
    task,
)

from par_index.airflow.approval import ReportApprovalOperator
from par_index.airflow.notifiers import PhaseClosedNotifier
from par_index.airflow.sensors import PhaseSensor
from par_index.campaign import PHASE_TITLES, Campaign, campaign_files, load_campaign, parse_duration
from par_index.text import vn_date, vn_datetime

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
    lines += [f"| {dl.title_vi} | {vn_date(campaign.deadline_at(key))} |" for key, dl in campaign.deadlines.items()]
    lines += ["", "Mỗi nội dung chờ đến khi mọi đơn vị hoàn thành hoặc đến hạn; quá hạn thì ghi nhận đơn vị chậm, "
                  "báo điều phối viên và đi tiếp. Danh mục tiêu chí: "
              f"`{campaign.campaign.catalogue}`"
              + (" (có mục tạm tính, suy luận)." if campaign.catalogue.has_provisional else ".")]
    if campaign.campaign.trial:
        lines += ["", f"**Chiến dịch thử nghiệm** (tạo bởi `make up`, chỉ thị ngày {vn_date(d.issued_on)}): thả tệp "
                      f"đơn vị gửi vào `inbox/{campaign.id}/` của thư mục dữ liệu (mặc định `out/`); mỗi tác vụ thu "
                      f"nhận đọc hộp thư mỗi {campaign.reminders.sensor_poke}. Thư gửi đến hộp thư cục bộ "
                      "(`out/mail/`)."]
    return "\n".join(lines)


def deadline_alerts(campaign: Campaign, campaign_file: str) -> list[DeadlineAlert]:
    """Before each deadline of the directive (default 08:00 three days and one day before) and at it: mail the
    coordinators what is still missing (moments: ``Campaign.alert_moments``). The callback lives in an importable
    module: the triggerer never imports DAG files."""
    return [DeadlineAlert(reference=DeadlineReference.FIXED_DATETIME(moment), interval=timedelta(0),
                          name=f"{phase}:{before or 'due'}",
                          callback=AsyncCallback("par_index.airflow.callbacks.deadline_alert",
                                                 kwargs={"campaign_file": campaign_file, "phase": phase,
                                                         "before": before}))
            for phase, before, moment in campaign.alert_moments()]


def build_campaign_dag(campaign: Campaign, path: Path) -> DAG:
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
        tags=["par-index", campaign.campaign.province.slug, str(campaign.campaign.year)]
        + (["thử nghiệm"] if campaign.campaign.trial else []),
        default_args={"owner": OWNER, "retries": 2, "retry_delay": timedelta(minutes=2)},
        deadline=deadline_alerts(campaign, campaign_file),
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
        def assemble_report(run_id=None):
            """Build the workbook and the Word report from the store, as a new build awaiting approval (clear this
            task after a rejection and fixes: a new build is made and sent for approval)."""
            from par_index.airflow.runtime import runtime
            from par_index.service import assemble_report as run

            return run(load_campaign(campaign_file), runtime(), run_id=run_id)

        approve_report = ReportApprovalOperator(
            task_id="approve_report", task_display_name="Lãnh đạo Sở phê duyệt báo cáo", campaign=campaign,
            campaign_file=campaign_file, response_timeout=campaign.lifetime,
            doc_md="Giám đốc (hoặc Phó Giám đốc) Sở Nội vụ nhận thư kèm báo cáo và đường dẫn; chọn Phê duyệt hoặc "
                   "Từ chối (ghi lý do). Từ chối thì không gửi; sửa rồi Clear tác vụ tổng hợp để lập lại.")

        @task(task_display_name=f"Gửi UBND tỉnh (hạn {vn_date(campaign.deadline_at('report'))})")
        def deliver_report():
            """Archive the approved report (SHA-256 in the store) and mail both files to the PPC office."""
            from par_index.airflow.runtime import runtime
            from par_index.service import deliver_report as run

            return run(load_campaign(campaign_file), runtime())

        ready = prepare()
        closers = {}
        poke = parse_duration(campaign.reminders.sensor_poke)
        for phase, title in PHASE_TITLES.items():
            deadline = campaign.deadline_at(phase)
            sensor = PhaseSensor(
                task_id=f"collect_{phase}", campaign_file=campaign_file, phase=phase,
                poke_interval=poke.total_seconds(), timeout=campaign.collection_lifetime(phase),
                retries=SENSOR_RETRIES, retry_delay=poke,
                task_display_name=f"Thu nhận: {title} (hạn {vn_date(deadline)})",
                doc_md=f"Đọc hộp thư đến, kiểm tra biểu mẫu, ghi vào kho dữ liệu; chờ đến khi đủ hoặc hết hạn "
                       f"{vn_date(deadline)}. Sống đến hết hạn cộng {campaign.reminders.close_grace} để khép lại; "
                       "nguồn dữ liệu của Bộ lỗi thì ghi nhận và chờ tiếp.",
            )

            @task(task_id=f"close_{phase}", task_display_name=f"Khép lại: {title}", trigger_rule="all_done",
                  on_success_callback=PhaseClosedNotifier(campaign_file=campaign_file, phase=phase))
            def close(phase: str = phase, ti=None):
                """Record the phase's outcome and late units (the PPC's list); a notifier mails the coordinators.
                Runs also when collection failed (no result from the sensor): then it says so."""
                from par_index.airflow.runtime import runtime
                from par_index.service import close_phase

                collected = ti.xcom_pull(task_ids=f"collect_{phase}") if ti is not None else None
                return close_phase(load_campaign(campaign_file), runtime(), phase,
                                   collection_failed=collected is None)

            closer = close()
            ready >> sensor >> closer
            closers[phase] = closer
        checked = reconcile()
        closers["self_scores"] >> checked
        [closers["nominees"], closers["survey"], checked] >> assemble_report() >> approve_report >> deliver_report()
    return dag


def build_reminder_dag(campaign: Campaign, path: Path) -> DAG:
    campaign_file = str(path)
    ladder = campaign.reminders.ladder
    with DAG(
        dag_id=f"{campaign.dag_id}_reminders",
        dag_display_name=f"Nhắc việc — {campaign.title_vi}",
        description="Nhắc hạn, quá hạn, báo cáo lãnh đạo; thông báo tài khoản phần mềm cho đầu mối",
        doc_md=(f"# Nhắc việc — {campaign.title_vi}\n"
                f"Chạy theo lịch `{campaign.reminders.schedule}` (giờ Việt Nam) từ {vn_date(campaign.starts_at)} đến "
                f"{vn_datetime(campaign.ends_at)}. Mỗi lần chạy: đọc hộp thư đến, gửi lại thư lỗi lần trước, rồi gửi "
                f"bước nhắc đến hạn cho ai chưa hoàn thành: khi bắt đầu (kèm biểu mẫu), trước hạn "
                f"{', '.join(ladder.before)}, ngày hạn, quá hạn mỗi {ladder.overdue_every} tối đa "
                f"{ladder.overdue_times} lần, rồi báo cáo thủ trưởng đơn vị và lãnh đạo Sở Nội vụ. Không gửi trùng, "
                f"không gửi cho người đã hoàn thành hay địa chỉ bị trả lại."
                + (" Chỉ gửi vào ngày làm việc: bước trước hạn rơi vào thứ Bảy, Chủ nhật, ngày lễ, Tết được gửi vào "
                   "ngày làm việc liền trước; bước quá hạn tính theo ngày làm việc." if ladder.by_working_days else "")
                + "\n\n"
                "Tham số `replay`: chạy lại cả lịch của một chiến dịch đã qua (mỗi ngày một lần như DAG đã chạy)."),
        schedule=CronTriggerTimetable(campaign.reminders.schedule, timezone=campaign.campaign.timezone),
        start_date=campaign.starts_at,
        end_date=campaign.ends_at,
        catchup=False,
        max_active_runs=1,
        dagrun_timeout=campaign.reminder_interval,
        params={"replay": Param(False, type="boolean", title="Chạy lại cả lịch nhắc việc",
                                description="Cho chiến dịch đã qua hoặc bản chạy thử")},
        tags=["par-index", "reminders", campaign.campaign.province.slug, str(campaign.campaign.year)]
        + (["thử nghiệm"] if campaign.campaign.trial else []),
        default_args={"owner": OWNER, "retries": 2, "retry_delay": timedelta(minutes=5)},
    ) as dag:

        @task(task_display_name="Gửi nhắc việc và thông báo đến hạn")
        def send_notices(params=None, logical_date=None):
            """Send every reminder, notice and escalation due at this run's scheduled time (or the whole calendar
            when replaying)."""
            from par_index.airflow.runtime import runtime
            from par_index.service import replay_notices
            from par_index.service import send_notices as run

            campaign = load_campaign(campaign_file)
            if (params or {}).get("replay"):
                return replay_notices(campaign, runtime())
            return run(campaign, runtime(), logical_date)  # the cron tick: the ladder's steps fall on schedule

        @task.short_circuit(task_display_name="Có điểm tự chấm mới?")
        def new_self_scores(result: dict) -> bool:
            """Go on only when this run read new self-score files."""
            return bool(result.get("new_self_scores"))

        @task(task_display_name="Báo có điểm tự chấm mới (đối chiếu tự chạy)", outlets=[self_scores_asset(campaign)])
        def announce(result: dict, outlet_events=None):
            """Emit the campaign's self-scores asset event: par_reconcile runs for the units concerned."""
            units = result["new_self_scores"]
            outlet_events[self_scores_asset(campaign)].extra = {"units": [] if "*" in units else units}

        notices = send_notices()
        new_self_scores(notices) >> announce(notices)
    return dag


def self_scores_asset(campaign: Campaign) -> Asset:
    return Asset(name=f"{campaign.id}_self_scores", uri=f"par://{campaign.id}/self_scores")


def build_reconcile_dag(campaigns: list[tuple[Campaign, Path]]) -> DAG:
    """``par_reconcile``: mismatch detection on demand (a validated form) and whenever new self-scores land."""
    ids = [c.id for c, _ in campaigns]
    files = {c.id: str(p) for c, p in campaigns}
    units = sorted({u.code for c, _ in campaigns for u in c.active_units})
    areas = sorted({a.code for c, _ in campaigns for a in c.catalogue.areas}, key=int)
    with DAG(
        dag_id="par_reconcile",
        dag_display_name="Đối chiếu phần mềm chấm điểm với báo cáo",
        description="Chạy lại đối chiếu sau khi đơn vị sửa dữ liệu; tự chạy khi có điểm tự chấm mới",
        doc_md=("# Đối chiếu phần mềm chấm điểm với báo cáo tự chấm điểm\n"
                "Điểm trên phần mềm của Bộ Nội vụ phải trùng khớp với báo cáo (Phụ lục II). Chạy theo yêu cầu "
                "(chọn chiến dịch, đơn vị, lĩnh vực, dung sai) hoặc tự động khi có điểm tự chấm mới. Kết quả của "
                "phạm vi đã chọn thay kết quả cũ của đúng phạm vi đó; mỗi đơn vị có sai lệch nhận bảng cần sửa."),
        schedule=AssetAny(*(self_scores_asset(c) for c, _ in campaigns)),
        start_date=min(c.starts_at for c, _ in campaigns),
        catchup=False,
        max_active_runs=1,
        params={
            "campaign": Param(ids[0], type="string", enum=ids, title="Chiến dịch"),
            "units": Param([], type="array", items={"type": "string", "enum": units}, title="Đơn vị",
                           description="Để trống: mọi đơn vị", uniqueItems=True),
            "areas": Param([], type="array", items={"type": "string", "enum": areas}, title="Lĩnh vực",
                           description="Để trống: mọi lĩnh vực", uniqueItems=True),
            "tolerance": Param(0.01, type="number", minimum=0, maximum=1, title="Dung sai (điểm)"),
        },
        tags=["par-index", "reconcile"],
        default_args={"owner": OWNER, "retries": 1, "retry_delay": timedelta(minutes=1)},
    ) as dag:

        @task(task_display_name="Đối chiếu và gửi bảng cần sửa")
        def reconcile(params=None, triggering_asset_events=None):
            """Read new self-score files, compare the scope, store the result, and notify the units concerned."""
            from decimal import Decimal

            from par_index.airflow.runtime import runtime
            from par_index.service import reconcile_scores

            chosen = dict(params or {})
            for asset, events in (triggering_asset_events or {}).items():  # started by new self-scores
                chosen["campaign"] = asset.uri.split("/")[2]
                chosen["units"] = sorted({u for e in events for u in (e.extra or {}).get("units", [])})
                chosen["areas"] = []
            campaign = load_campaign(files[chosen["campaign"]])
            return reconcile_scores(campaign, runtime(), units=chosen.get("units") or None,
                                    areas=chosen.get("areas") or None,
                                    tolerance=Decimal(str(chosen.get("tolerance", 0.01))), collect_first=True)

        reconcile()
    return dag


def build_campaign_dags(folder: Path | None = None) -> list[DAG]:
    """The campaign DAG and its reminder DAG for each campaign file, and the on-demand reconciliation DAG."""
    campaigns = [(load_campaign(path), path) for path in (campaign_files(folder) if folder else campaign_files())]
    dags = [dag for campaign, path in campaigns
            for dag in (build_campaign_dag(campaign, path), build_reminder_dag(campaign, path))]
    return dags + ([build_reconcile_dag(campaigns)] if campaigns else [])
