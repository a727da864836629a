"""Who reads a mail, and how it addresses them.

- Only the coordinators and SNV's leader can open the Airflow UI: links to it are built here, from its public
  address (:attr:`Campaign.ui_base_url <par_index.campaign.Campaign.ui_base_url>`); everyone else gets the coordinators' name, phone and mailbox instead (each mail
  template declares its ``audience``: ``coordinators``, ``leader`` or ``units``).
- A unit, or its head, is addressed by the unit's kind (:func:`salutation`).
- A decision on the report names the person behind the Airflow login (:func:`approver_name`).
"""

from __future__ import annotations

import re

from par_index.campaign import Campaign, Unit

AUDIENCES = ("coordinators", "leader", "units")  # who reads a mail template (its `{% set audience = … %}`)
MAIL_KINDS = {  # a mail template, as the summary and the dashboard name it
    "reminder": "nhắc việc đơn vị",
    "survey_person": "nhắc từng người trả lời khảo sát",
    "survey_unit_notice": "thông báo thủ trưởng về khảo sát",
    "escalation": "báo cáo thủ trưởng đơn vị (quá hạn)",
    "escalation_digest": "báo cáo lãnh đạo Sở Nội vụ",
    "deadline_alert": "cảnh báo hạn cho điều phối viên",
    "phase_closed": "kết quả từng nội dung",
    "portal_accounts": "tài khoản phần mềm cho đầu mối",
    "council_notice": "thông báo nhiệm vụ thành viên Hội đồng thẩm định",
    "mismatch_notice": "bảng cần sửa sau đối chiếu",
    "mismatch_cleared": "báo hết sai lệch sau đối chiếu",
    "file_feedback": "trả lời đơn vị về tệp đã gửi",
    "password_file": "báo tệp có mật khẩu",
    "report_approval": "trình lãnh đạo phê duyệt báo cáo",
    "report_rejected": "báo cáo bị từ chối",
    "report_delivery": "gửi báo cáo UBND tỉnh",
    "request": "yêu cầu gửi đơn vị",
    "request_reminder": "nhắc đơn vị trả lời yêu cầu",
    "request_answered": "báo người yêu cầu: đơn vị đã trả lời",
}


# ---- salutations ------------------------------------------------------------------------------------------
# The head's title by the unit's kind (Campaign.kinds: the campaign file's unit_kinds, or the defaults of
# campaign.DEFAULT_UNIT_KINDS) and the start of its name (the first that matches); else "Thủ trưởng".
ANY_HEAD = "Thủ trưởng"
LOCAL_KINDS = (
    "Thành phố",
    "Thị xã",
    "Thị trấn",
    "Huyện",
    "Quận",
    "Xã",
    "Phường",
)  # written lower after "UBND"


def head_title(unit: Unit) -> str:
    """The title of the unit's head: the campaign file's ``head_title_vi``, else by its kind's rules
    (:attr:`Unit.kind_def <par_index.campaign.Unit.kind_def>`)."""
    if unit.head_title_vi:
        return unit.head_title_vi
    rules = unit.kind_def.head_titles
    return next((rule.title_vi for rule in rules if unit.name_vi.startswith(rule.prefix)), ANY_HEAD)


def _local_name(name: str) -> str:
    """'Huyện Hương Sơn' → 'huyện Hương Sơn': a district's or commune's kind word inside a phrase."""
    kind = next((k for k in LOCAL_KINDS if name.startswith(f"{k} ")), None)
    return f"{kind.lower()}{name[len(kind) :]}" if kind else name


def salutation(unit: Unit, head: bool = False) -> str:
    """Whom a mail to ``unit`` is addressed to, after "Kính gửi:".

    To the unit's mailbox (``head=False``) the unit itself, a district, town or city (or commune) as its People's
    Committee: "Sở Tư pháp", "UBND huyện Hương Sơn", "UBND thị xã Hồng Lĩnh", "UBND thành phố Hà Tĩnh".

    To its head (``head=True``) the head by title (:func:`head_title`) and the unit's name, the words they share
    written once: "Giám đốc Sở Tư pháp", "Chánh Văn phòng UBND tỉnh", "Chánh Văn phòng Đoàn ĐBQH và HĐND tỉnh",
    "Cục trưởng Cục Thuế tỉnh Hà Tĩnh", "Thủ trưởng <name>" for a central agency of another kind (or its
    ``head_title_vi``: "Giám đốc Công an tỉnh"), "Chủ tịch UBND huyện Hương Sơn".
    """
    local = unit.kind_def.local
    name = _local_name(unit.name_vi) if local else unit.name_vi
    if not head:
        return f"UBND {name}" if local else name
    title, words = head_title(unit).split(), name.split()
    for shared in range(len(title) - 1, 0, -1):
        if title[-shared:] == words[:shared]:
            return " ".join(title[:-shared] + words)
    return " ".join(title + words)


# ---- the approver ------------------------------------------------------------------------------------------
def approver_name(campaign: Campaign, login: str) -> str:
    """The person behind an Airflow login: SNV's leader's contact name for the leader's ``login``, else
    ``approvers[login]`` ("name, title"), else the login itself."""
    leader = campaign.contacts.snv_leader
    if leader.login and login == leader.login:
        return leader.name
    approver = campaign.approvers.get(login)
    if approver is None:
        return login
    return f"{approver.name}, {approver.title_vi}" if approver.title_vi else approver.name


def approver_record(campaign: Campaign, login: str) -> str:
    """What the build records as its decider: "name (login)" for a known login (the person for readers, the
    account for audit), else the login as it came."""
    name = approver_name(campaign, login)
    return login if name == login else f"{name} ({login})"


def approver_shown(campaign: Campaign, recorded: str | None) -> str:
    """The decider's name for a reader, from what :func:`approver_record` stored (a known login's suffix off)."""
    match = re.fullmatch(r"(.+) \(([^()]+)\)", recorded or "")
    known = {*campaign.approvers, campaign.contacts.snv_leader.login}
    return match.group(1) if match and match.group(2) in known else recorded or ""
