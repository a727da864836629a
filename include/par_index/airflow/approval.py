"""SNV's leader approves or rejects the provincial report inside Airflow (Human-in-the-loop), after a mail with
the link. The decision (who, when, why) is recorded in the campaign store; a rejection skips the delivery, and
after fixes a coordinator triggers the campaign's "Lập lại báo cáo" DAG (a new build, asked again).

Airflow 3.3.2's form cannot make a field required for one option only (the options are not part of the params
schema; a required field disables every option until filled), so the reason is optional in the form and a
rejection without a reason is refused after the decision: it is not recorded, the log says so, and
the same request is asked again (the task waits for input anew)."""

from __future__ import annotations

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import BaseNotifier, Param

from par_index.campaign import Campaign, load_campaign


class ReportApprovalRequest(BaseNotifier):
    """Mail the leader (copy to the coordinators) the report awaiting approval with the link to decide."""

    template_fields = ()

    def __init__(self, *, campaign_file: str):
        """Remember the campaign file whose report awaits approval."""
        super().__init__()
        self.campaign_file = campaign_file

    def notify(self, context) -> None:
        """Mail the approval request for the report, with the UI link to decide."""
        from par_index.airflow.runtime import runtime
        from par_index.service import request_report_approval

        campaign = load_campaign(self.campaign_file)
        link = ApprovalOperator.generate_link_to_ui_from_context(
            context=context, base_url=campaign.ui_base_url
        )
        result = request_report_approval(campaign, runtime(), link)
        self.log.info("Approval request for report build %s: %s", result["build"], result["mail"])


def reason_param() -> Param:
    """The form's "Lý do" field. Optional in the schema ("null" allowed): Airflow's form marks a field whose type
    excludes null as required and then disables every option until it is filled, so "Phê duyệt" would need a
    reason too; a rejection without one is refused by :class:`ReportApprovalOperator` instead (REP005)."""
    return Param(None, type=["null", "string"], title="Lý do (bắt buộc khi từ chối)", maxLength=2000)


class ReportApprovalOperator(ApprovalOperator):
    """'Phê duyệt' lets the delivery run; 'Từ chối' (with a reason) records the reason and skips it."""

    APPROVE = "Phê duyệt"
    REJECT = "Từ chối"

    def __init__(self, *, campaign: Campaign, campaign_file: str, **kwargs):
        """Ask the leader to approve the campaign's report: subject, body and options in Vietnamese."""
        self.campaign_file = campaign_file
        super().__init__(
            subject=f"Phê duyệt báo cáo tự đánh giá {campaign.title_vi}",
            body=(
                "Xem bảng tổng hợp (Excel) và báo cáo (Word) gửi kèm thư trình duyệt, hoặc trong thư mục báo "
                f"cáo của chiến dịch. Phê duyệt: hệ thống gửi cho {campaign.contacts.ppc_office.name} và lưu bản "
                "gửi. Từ chối: bắt buộc ghi lý do (từ chối không có lý do thì không được ghi nhận và hệ thống hỏi "
                "lại); Phòng CCHC sửa rồi lập lại báo cáo."
            ),
            params={"reason": reason_param()},
            notifiers=[ReportApprovalRequest(campaign_file=campaign_file)],
            **kwargs,
        )

    def execute_complete(self, context, event):
        """Record the leader's decision on the report build, then finish as Airflow's approval does."""
        from par_index.airflow.runtime import runtime
        from par_index.errors import ReportStateError
        from par_index.service import record_report_decision

        if "error" not in event:
            user = event.get("responded_by_user") or {}
            try:
                result = record_report_decision(
                    load_campaign(self.campaign_file),
                    runtime(),
                    approved=event["chosen_options"] == [self.APPROVE],
                    by=user.get("name") or user.get("id") or "?",
                    at=event["responded_at"],
                    reason=(event.get("params_input") or {}).get("reason"),
                )
            except ReportStateError as exc:
                if exc.code != "REP005":
                    raise
                self.log.warning("%s Hỏi lại Lãnh đạo Sở.", exc.message)
                return self.execute(context)  # clears the response and waits for input again
            self.log.info("Report build %s: %s by %s", result["build"], result["status"], result["by"])
        return super().execute_complete(context, event)
