"""The directive's deadlines as the Airflow UI shows them: one run of the DAG ``<campaign>_deadlines`` per deadline.

An Airflow Deadline Alert means "this run must have succeeded by then". The campaign run lasts until the report, so
alerts on it would all read "Missed". Instead, the campaign DAG's ``deadline_<phase>`` tasks
(:class:`DeadlineRunOperator`, right after ``prepare``) each create one run of the deadlines DAG, started at once,
with run id the phase and ``conf = {"phase": …, "deadline": …}``; that DAG's one Deadline Alert
(:class:`~par_index.airflow.deadline_reference.DirectiveDeadline` + 0) makes each run's row due exactly at its
deadline, and its one task (:class:`AwaitComplianceOperator`, deferred to
:class:`~par_index.airflow.triggers.ComplianceTrigger`) ends the run before the deadline when every unit has
complied (the row is deleted: met) or after it when not (the row stays Missed, the callback mails the
coordinators). The deadlines DAG's *Deadlines* panel therefore lists the directive's deadlines only: Upcoming
until each falls due, then Missed exactly for those some unit had not complied with.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import BaseOperator

from par_index.campaign import PHASES


class DeadlineRunOperator(TriggerDagRunOperator):
    """Create the deadlines DAG's run of one deadline (run id = the phase, the deadline in its conf, no logical date:
    started at once), unless the deadline has already passed: a run created after its deadline is marked Missed at once,
    whatever the units did (a replayed past campaign), so none is made and the task is skipped, saying why. A run
    that already exists (the campaign run was cleared) is kept: the task is skipped."""

    def __init__(
        self, *, deadlines_dag_id: str, phase: str, deadline: datetime, note: str | None = None, **kwargs
    ):
        """Trigger the deadlines DAG's run ``phase`` with the deadline in its conf."""
        super().__init__(
            trigger_dag_id=deadlines_dag_id,
            trigger_run_id=phase,
            conf={"phase": phase, "deadline": deadline.isoformat()},
            logical_date=None,
            note=note,
            wait_for_completion=False,
            skip_when_already_exists=True,
            fail_when_dag_is_paused=True,
            openlineage_inject_parent_info=False,
            **kwargs,
        )
        self.phase, self.deadline = phase, deadline

    def execute(self, context):
        """Create the deadline's run, or skip when the deadline has already passed."""
        from airflow.sdk.exceptions import AirflowSkipException

        now = datetime.now(UTC)
        if self.deadline <= now:
            raise AirflowSkipException(
                f"Hạn {self.phase} ({self.deadline.isoformat()}) đã qua lúc {now.isoformat()}: không tạo lần chạy "
                f"của {self.trigger_dag_id} (tạo sau hạn thì Airflow ghi Missed ngay, dù các đơn vị đã làm gì). Danh "
                "sách đơn vị chậm của hạn này do tác vụ khép lại ghi."
            )
        return super().execute(context)


class AwaitComplianceOperator(BaseOperator):
    """The deadlines DAG's one task: wait, in the triggerer, until every unit has complied with the run's deadline
    (success) or the deadline has passed (skipped). The phase and the deadline come from the run's conf (the
    deadline is also its Deadline row's moment); a run without a deadline (made by hand) takes the campaign
    file's."""

    template_fields = ()

    def __init__(self, *, campaign_file: str, check_every: float = 5.0, **kwargs):
        """Remember the campaign file and how often the trigger reads the store."""
        super().__init__(**kwargs)
        self.campaign_file, self.check_every = campaign_file, check_every

    def execute(self, context):
        """Defer to the compliance trigger for the run's phase and deadline."""
        from par_index.airflow.triggers import ComplianceTrigger
        from par_index.campaign import load_campaign

        run = context["dag_run"]
        conf = run.conf or {}
        phase = conf.get("phase") or run.run_id
        if phase not in PHASES:
            raise ValueError(
                f"Lần chạy {run.run_id}: nội dung {phase!r} không phải hạn của văn bản ({', '.join(PHASES)})."
            )
        planned = load_campaign(self.campaign_file).deadline_at(phase)
        deadline = datetime.fromisoformat(conf["deadline"]) if conf.get("deadline") else planned
        if deadline != planned:
            self.log.warning(
                "Hạn %s trong tệp chiến dịch là %s, lần chạy này theo %s (tạo trước khi tệp đổi): xóa "
                "lần chạy rồi Clear tác vụ deadline_%s của chiến dịch để theo hạn mới.",
                phase,
                planned.isoformat(),
                deadline.isoformat(),
                phase,
            )
        self.log.info("Chờ mọi đơn vị hoàn thành %s trước %s.", phase, deadline.isoformat())
        self.defer(
            trigger=ComplianceTrigger(self.campaign_file, phase, deadline.isoformat(), self.check_every),
            method_name="execute_complete",
        )

    def execute_complete(self, context, event=None):
        """Resumed on a worker once the deadline has passed (a success before it is the trigger's own): read what
        arrived until then, judge as of the deadline, keep the result as the task's XCom and end skipped."""
        from airflow.sdk.exceptions import AirflowSkipException

        from par_index.airflow.runtime import runtime
        from par_index.campaign import load_campaign
        from par_index.service import deadline_check

        phase, deadline = event["phase"], event["deadline"]
        try:  # as of the deadline itself, after reading whatever arrived until then
            result = deadline_check(
                load_campaign(self.campaign_file),
                runtime(),
                phase,
                datetime.fromisoformat(deadline),
                read_inbox=True,
            )
        except Exception as exc:  # noqa: BLE001 - the deadline has passed either way
            self.log.exception("Hạn %s: kiểm tra lần cuối lỗi.", phase)
            result = {"phase": phase, "deadline": deadline, "error": f"{type(exc).__name__}: {exc}"}
        if result.get("complete"):
            self.log.warning(
                "Hạn %s đã qua; mọi đơn vị hoàn thành trước hạn nhưng tệp cuối được đọc sau hạn: bảng "
                "Deadlines ghi Missed, danh sách chậm và thư “đã đến hạn” ghi đúng hạn.",
                phase,
            )
        else:
            self.log.info(
                "Hạn %s đã qua (%s); chưa hoàn thành: %s.",
                phase,
                deadline,
                ", ".join(result.get("waiting_for", [])) or "không rõ",
            )
        context["ti"].xcom_push(key="return_value", value=result)
        raise AirflowSkipException(
            f"Hạn {phase} ({deadline}) đã qua: bảng Deadlines ghi Missed ("
            + (
                "tệp cuối được đọc sau hạn)."
                if result.get("complete")
                else "vẫn còn đơn vị chưa hoàn thành)."
            )
        )
