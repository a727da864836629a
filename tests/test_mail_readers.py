"""Each mail right for its reader: links to Airflow only for the coordinators and SNV's leader (from the public
address), the coordinators' name, phone and mailbox for everyone else; a unit or its head addressed by the unit's
kind; the report's approver named as a person, not as an Airflow login."""

import email
import re
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal
from email import policy
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import yaml
from par_index import reminders, requests
from par_index.campaign import Campaign, Unit
from par_index.catalogue import YAML_LOADER
from par_index.notify import SmtpSettings, build_message, render
from par_index.paths import TEMPLATES_DIR
from par_index.phases import REASON_TITLES, PhaseState, UnitStatus
from par_index.readers import (
    MAIL_KINDS,
    approver_name,
    approver_record,
    approver_shown,
    head_title,
    salutation,
)
from par_index.runtime import Runtime
from par_index.service import (
    assemble_report,
    deliver_report,
    prepare,
    record_report_decision,
    request_report_approval,
    send_notices,
)
from par_index.store import session_scope
from par_index.store.models import Notification, ReportBuild
from pydantic import ValidationError
from sqlalchemy import select
from support.campaigns import HA_TINH_2023
from support.received_mail import read_mails

PUBLIC = "https://cchc.hatinh.example/airflow"  # AIRFLOW_BASE_URL in these tests
COMMUNE = Unit(
    code="XSK",
    name_vi="Xã Sơn Kim 1",
    kind="commune",
    email="ubndxsk@hatinh.example",
    head_email="lanhdao.ubndxsk@hatinh.example",
)
SAMPLES = {
    "department": "STP",
    "council_office": "VPDBQHHDND",
    "central_agency": "CTHUE",
    "district": "439",
    "commune": COMMUNE,
}  # one unit per kind (the campaign has no commune: a Hà Tĩnh commune)

# Whom a mail to a unit's mailbox (MAILBOX) and to its head (HEAD) is addressed to, by unit.
MAILBOX = {
    "STP": "Sở Tư pháp",
    "VPUBND": "Văn phòng UBND tỉnh",
    "VPDBQHHDND": "Văn phòng Đoàn ĐBQH và HĐND tỉnh",
    "CTHUE": "Cục Thuế tỉnh Hà Tĩnh",
    "CAT": "Công an tỉnh",
    "436": "UBND thành phố Hà Tĩnh",
    "437": "UBND thị xã Hồng Lĩnh",
    "439": "UBND huyện Hương Sơn",
    "XSK": "UBND xã Sơn Kim 1",
}
HEAD = {
    "STP": "Giám đốc Sở Tư pháp",
    "VPUBND": "Chánh Văn phòng UBND tỉnh",
    "VPDBQHHDND": "Chánh Văn phòng Đoàn ĐBQH và HĐND tỉnh",
    "CTHUE": "Cục trưởng Cục Thuế tỉnh Hà Tĩnh",
    "CAT": "Giám đốc Công an tỉnh",
    "436": "Chủ tịch UBND thành phố Hà Tĩnh",
    "437": "Chủ tịch UBND thị xã Hồng Lĩnh",
    "439": "Chủ tịch UBND huyện Hương Sơn",
    "XSK": "Chủ tịch UBND xã Sơn Kim 1",
}

# Who reads each template (the recipients of its send_once calls in service.py and reminders.py).
AUDIENCE = {
    "deadline_alert": "coordinators",
    "password_file": "coordinators",
    "phase_closed": "coordinators",
    "report_rejected": "coordinators",
    "escalation_digest": "leader",
    "report_approval": "leader",
    "reminder": "units",
    "escalation": "units",
    "survey_person": "units",
    "survey_unit_notice": "units",
    "mismatch_notice": "units",
    "mismatch_cleared": "units",
    "portal_accounts": "units",
    "report_delivery": "units",
    "council_notice": "units",
    "request": "units",
    "request_reminder": "units",
    "request_answered": "units",  # to the requester: a coordinator or an area owner's nominee
    "file_feedback": "units/coordinators",  # to the unit, or to the coordinators when its unit cannot be read
}
UNIT_TEMPLATES = (
    "reminder",
    "escalation",
    "survey_person",
    "survey_unit_notice",
    "mismatch_notice",
    "mismatch_cleared",
    "portal_accounts",
)

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
DEADLINE = datetime(2023, 12, 30, 23, 59, 59, tzinfo=HANOI)  # as the code passes it: local time
PERSON = SimpleNamespace(full_name="Trần Thị Hà", position="Phó Trưởng phòng", email="ha.tt@hatinh.example")
NOMINEE = SimpleNamespace(full_name="Lê Văn Dương", email="duong.lv.hd.skhdt@hatinh.example")
BUILD = SimpleNamespace(
    number=2,
    created_at=datetime(2024, 1, 18, 3, tzinfo=UTC),
    reason="Thiếu giải trình 5.p2.2",
    decided_at=datetime(2024, 1, 19, 2, 30, tzinfo=UTC),
)
FIGURES = SimpleNamespace(
    self_total=Decimal("55.5"),
    self_max=Decimal("68"),
    survey_max=Decimal("32"),
    scored=40,
    leaves=list(range(45)),
    open_mismatches=2,
    survey_rate=Decimal("96.5"),
)


# A request (par_index.requests) from SKHDT's nominee to the unit: evidence for a criterion of Table 2 (directive 2a).
REQUEST = SimpleNamespace(
    number=3,
    kind="evidence",
    requester_name="Lê Văn Dương",
    requester_email="duong.lv.hd.skhdt@hatinh.example",
    requester_unit="SKHDT",
    criteria=["8.p1.1"],
    text="Đề nghị cung cấp quyết định phê duyệt kế hoạch năm 2023.",
    due=date(2024, 1, 5),
    due_note="",
    attachment_name=None,
)


@pytest.fixture(autouse=True)
def public_address(monkeypatch):
    monkeypatch.setenv("AIRFLOW_BASE_URL", f"{PUBLIC}/")


def _unit(campaign: Campaign, kind: str) -> Unit:
    sample = SAMPLES[kind]
    return sample if isinstance(sample, Unit) else campaign.unit_by_code[sample]


def _state(unit: Unit) -> PhaseState:
    return PhaseState(
        "nominees",
        DEADLINE,
        datetime(2024, 1, 5, 1, tzinfo=UTC),
        {unit.code: UnitStatus(unit.code, "missing", "Chưa nhận Phụ lục IV.", 2, 4)},
    )


def _context(campaign: Campaign, template: str, unit: Unit) -> dict:
    """What the code passes to ``template`` (service.py, reminders.py); no ``ui_url`` for the units' mail."""
    coordinator, leader = campaign.contacts.coordinators[0], campaign.contacts.snv_leader
    ladder = {
        "phase_title": "Cử công chức đầu mối (Phụ lục IV)",
        "deadline": DEADLINE,
        "rung_kind": "overdue",
        "rung_sentence": "Nội dung “Cử công chức đầu mối (Phụ lục IV)” đã quá hạn.",
        "unit": unit,
        "status": _state(unit).units[unit.code],
        "reason": REASON_TITLES["missing"],
    }
    request = requests.mail_context(campaign, REQUEST)  # type: ignore[arg-type]  # a stored row's fields
    coordinators = {
        "recipient_name": coordinator.name,
        "state": _state(unit),
        "phase_title": ladder["phase_title"],
        "deadline": DEADLINE,
        "failures": [],
        "unit_names": {unit.code: unit.name_vi},
        "reason_titles": REASON_TITLES,
        "ui_url": campaign.ui_link(),
    }
    return {
        "reminder": ladder,
        "escalation": ladder,
        "survey_person": ladder | {"person": PERSON, "people": [PERSON]},
        "survey_unit_notice": ladder | {"people": [PERSON]},
        "mismatch_notice": {
            "unit": unit,
            "count": 3,
            "categories": {"Điểm khác nhau": 3},
            "deadline": DEADLINE,
        },
        "mismatch_cleared": {"unit": unit, "sent_at": datetime(2024, 1, 12, 10, tzinfo=HANOI)},
        "portal_accounts": {
            "unit": unit,
            "nominee": NOMINEE,
            "accounts": [SimpleNamespace(login="stp.cchc", scope="Lĩnh vực 2", manager=None)],
        },
        "deadline_alert": coordinators | {"passed": False, "left": "3 ngày", "as_of": DEADLINE},
        "phase_closed": coordinators | {"closed_at": DEADLINE, "refused": [], "difficulties": {}},
        "password_file": coordinators
        | {"name": "PL3.xlsx", "arrived": DEADLINE, "moved_to": "/quarantine/x.xlsx", "sender": unit.name_vi},
        "report_rejected": {
            "build": BUILD,
            "decided_at": BUILD.decided_at,
            "approver": "Nguyễn Văn A, Giám đốc",
            "ui_url": campaign.ui_link(),
            "rebuild_url": campaign.ui_link(campaign.rebuild_dag_id),
        },
        "escalation_digest": coordinators
        | {"recipient_name": leader.name, "rung_sentence": ladder["rung_sentence"]},
        "report_approval": {
            "recipient_name": leader.name,
            "build": BUILD,
            "figures": FIGURES,
            "deadline": DEADLINE,
            "link": f"{PUBLIC}/dags/{campaign.dag_id}/runs/r/tasks/approve_report/required_actions",
            "ui_url": campaign.ui_link(),
        },
        "council_notice": {
            "member": campaign.council.members[13],
            "unit": campaign.unit_by_code["SKHDT"],
            "deadlines": [{"title": ladder["phase_title"], "at": DEADLINE}],
        },
        "report_delivery": {
            "recipient_name": campaign.contacts.ppc_office.name,
            "build": BUILD,
            "figures": FIGURES,
            "approver": "Nguyễn Văn A, Giám đốc Sở Nội vụ",
        },
        "request": {"unit": unit} | request,
        "request_reminder": request
        | {
            "unit": unit,
            "rung_kind": "overdue",
            "rung_sentence": "Yêu cầu YC-03 đã quá hạn trả lời (05/01/2024).",
        },
        "request_answered": request
        | {"unit": unit, "file_name": "YC-03_439.pdf", "arrived_at": datetime(2024, 1, 4, 10, tzinfo=HANOI)},
    }[template] | {"campaign": campaign}


def _subject(campaign: Campaign, template: str, unit: Unit) -> str:
    name, year = unit.name_vi, campaign.campaign.year
    return {
        "reminder": f"[Quá hạn] Cử công chức đầu mối (Phụ lục IV) — {name} — hạn 30/12/2023",
        "escalation": f'[Báo cáo lãnh đạo] {name} chưa hoàn thành "Cử công chức đầu mối (Phụ lục IV)" '
        "(hạn 30/12/2023)",
        "survey_person": f"[Quá hạn] Phiếu khảo sát Chỉ số CCHC {year} — hạn 30/12/2023",
        "survey_unit_notice": f"[Khảo sát CCHC] {name}: 2/4 lãnh đạo đã trả lời — hạn 30/12/2023",
        "mismatch_notice": f"[Đối chiếu CCHC] {name}: 3 điểm cần sửa cho phần mềm khớp báo cáo",
        "mismatch_cleared": f"[Đính chính đối chiếu CCHC] {name}: bảng cần sửa gửi ngày 12/01/2024 10:00 không còn "
        "áp dụng",
        "portal_accounts": f"[Chỉ số CCHC {year}] Tài khoản phần mềm chấm điểm của {name}",
    }[template]


def _salutation(campaign: Campaign, template: str, unit: Unit) -> str:
    return (
        "Kính gửi: "
        + {
            "reminder": MAILBOX[unit.code],
            "mismatch_notice": MAILBOX[unit.code],
            "mismatch_cleared": MAILBOX[unit.code],
            "escalation": HEAD[unit.code],
            "survey_unit_notice": HEAD[unit.code],
            "survey_person": f"đồng chí Trần Thị Hà (Phó Trưởng phòng, {unit.name_vi})",
            "portal_accounts": "đồng chí Lê Văn Dương",
            "deadline_alert": "Phòng Cải cách hành chính, Sở Nội vụ",
            "phase_closed": "Phòng Cải cách hành chính, Sở Nội vụ",
            "password_file": "Phòng Cải cách hành chính, Sở Nội vụ",
            "report_rejected": "Phòng Cải cách hành chính, Sở Nội vụ",
            "escalation_digest": "Giám đốc Sở Nội vụ",
            "report_approval": "Giám đốc Sở Nội vụ",
            "report_delivery": "Văn phòng UBND tỉnh",
            "council_notice": "đồng chí Lê Văn Dương (Chánh Văn phòng Sở Kế hoạch và Đầu tư)",
            "request": MAILBOX[unit.code],
            "request_reminder": MAILBOX[unit.code],
            "request_answered": "đồng chí Lê Văn Dương (Sở Kế hoạch và Đầu tư)",
        }[template]
    )


def _as_received(subject: str, text: str, html: str, to: str) -> email.message.EmailMessage:
    """The mail built as notify sends it, then parsed back as a mail client reads it."""
    entry = Notification(
        key=f"test:{to}:{subject}",
        recipients=[to],
        subject=subject,
        body_text=text,
        body_html=html,
        attachments=[],
        reply_to=["cchc.snv@hatinh.example"],
    )
    message = build_message(
        SmtpSettings("127.0.0.1", sender="cchc.snv@hatinh.example"),
        entry,
        datetime(2024, 1, 2, 8, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
    )
    return email.message_from_bytes(message.as_bytes(), policy=policy.default)


def _bodies(message: email.message.EmailMessage) -> tuple[str, str]:
    """The plain text and the HTML as a reader sees them (lines end in CRLF on the wire)."""
    return tuple(message.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("plain", "html"))


def _assert_for_units(campaign: Campaign, text: str, html: str) -> None:
    """No link a unit cannot open, no "do not reply": the coordinators' name, phone and mailbox instead."""
    for body in (text, html):
        for never in ("localhost", PUBLIC, "/dags/", "Airflow", "đừng trả lời"):
            assert never not in body
    assert "Mọi trao đổi về thư này, xin trả lời thư hoặc liên hệ đầu mối của Sở Nội vụ:" in text
    for c in campaign.contacts.coordinators:
        assert f"- {c.name} — điện thoại {c.phone} — thư điện tử {c.email}\n" in text
        assert (
            f'<li>{c.name} — điện thoại <a href="tel:{c.phone.replace(" ", "")}">{c.phone}</a> — thư điện tử '
            f'<a href="mailto:{c.email}">{c.email}</a></li>'
        ) in html


def _assert_for_snv(campaign: Campaign, audience: str, text: str, html: str) -> None:
    link = f"{PUBLIC}/dags/{campaign.dag_id}"
    assert f"Theo dõi chiến dịch trên Airflow: {link}\n" in text and f'<a href="{link}">' in html
    assert "đừng trả lời" not in text + html
    coordinator = campaign.contacts.coordinators[0]
    assert (f"- {coordinator.name} — điện thoại {coordinator.phone}" in text) == (audience == "leader")


# ---- the public address --------------------------------------------------------------------------------------
def test_links_use_airflow_base_url_else_the_campaign_s(campaign, monkeypatch):
    assert (campaign.ui_base_url, campaign.ui_link()) == (PUBLIC, f"{PUBLIC}/dags/par_ha_tinh_2023")
    assert campaign.ui_link("par_reconcile") == f"{PUBLIC}/dags/par_reconcile"
    monkeypatch.delenv("AIRFLOW_BASE_URL")
    assert campaign.ui_link() == "http://localhost:8080/dags/par_ha_tinh_2023"
    monkeypatch.setenv("AIRFLOW_BASE_URL", " ")
    assert campaign.ui_base_url == "http://localhost:8080"


# ---- salutations -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["STP", "VPUBND", "VPDBQHHDND", "CTHUE", "CAT", "436", "437", "439", "XSK"])
def test_salutation_by_the_unit_s_kind(campaign, code):
    unit = COMMUNE if code == "XSK" else campaign.unit_by_code[code]
    assert (salutation(unit), salutation(unit, head=True)) == (MAILBOX[code], HEAD[code])


def test_salutation_of_every_kind_rule(campaign):
    def unit(name: str, kind: str, title: str | None = None) -> Unit:
        return Unit(
            code="X",
            name_vi=name,
            kind=kind,
            email="x@hatinh.example",
            head_email="y@hatinh.example",
            head_title_vi=title,
        )

    assert [
        salutation(u, head=True)
        for u in (
            unit("Thanh tra tỉnh", "department"),
            unit("Ban Quản lý Khu kinh tế tỉnh", "department"),
            unit("Ban Dân tộc tỉnh", "department", "Trưởng ban"),
            unit("Cục Hải quan Hà Tĩnh", "central_agency"),
            unit("Kho bạc Nhà nước Hà Tĩnh", "central_agency"),
            unit("Phường Bắc Hà", "commune"),
            unit("Thị trấn Nghèn", "commune"),
            unit("Thành phố Hà Tĩnh", "district"),
        )
    ] == [
        "Chánh Thanh tra tỉnh",
        "Trưởng ban Ban Quản lý Khu kinh tế tỉnh",
        "Trưởng ban Ban Dân tộc tỉnh",
        "Cục trưởng Cục Hải quan Hà Tĩnh",
        "Thủ trưởng Kho bạc Nhà nước Hà Tĩnh",
        "Chủ tịch UBND phường Bắc Hà",
        "Chủ tịch UBND thị trấn Nghèn",
        "Chủ tịch UBND thành phố Hà Tĩnh",
    ]


def test_every_unit_of_the_campaign_has_its_head_s_title(campaign):
    titles = {u.code: head_title(u) for u in campaign.active_units}
    assert {code: t for code, t in titles.items() if t != "Giám đốc"} == {
        "VPUBND": "Chánh Văn phòng",
        "TTT": "Chánh Thanh tra",
        "BQLKKT": "Trưởng ban",
        "VPDBQHHDND": "Chánh Văn phòng",
        "CTHUE": "Cục trưởng",
        "CHQ": "Cục trưởng",
        "CTK": "Cục trưởng",
        "CQLTT": "Cục trưởng",
        **{u.code: "Chủ tịch UBND" for u in campaign.active_units if u.kind == "district"},
    }
    assert [u.code for u in campaign.active_units if salutation(u, head=True).startswith("Thủ trưởng")] == []


# ---- every template, every kind --------------------------------------------------------------------------------
def test_each_template_declares_who_reads_it():
    declared = {}
    for path in sorted((TEMPLATES_DIR / "email").glob("*.txt")):
        if path.name.startswith("_") or path.name.endswith(".subject.txt"):
            continue
        name = path.name.removesuffix(".txt")
        audiences = {
            "/".join(re.findall(r'"(\w+)"', re.search(r"{% set audience = (.+?) %}", text)[1]))
            for text in ((path.parent / f"{name}.{ext}").read_text() for ext in ("txt", "html"))
        }
        [declared[name]] = audiences
    assert declared == AUDIENCE


@pytest.mark.parametrize("kind", list(SAMPLES))
@pytest.mark.parametrize("template", UNIT_TEMPLATES)
def test_unit_mail_for_every_kind(campaign, template, kind):
    unit = _unit(campaign, kind)
    subject, text, html = render(template, **_context(campaign, template, unit))
    message = _as_received(subject, text, html, unit.email)
    assert message["Subject"] == subject == _subject(campaign, template, unit)
    text, html = _bodies(message)
    [line] = [line for line in text.splitlines() if line.startswith("Kính gửi")]
    assert line == _salutation(campaign, template, unit)
    assert f"<p>{line}</p>" in html
    assert "Thủ trưởng" not in text + html
    _assert_for_units(campaign, text, html)
    for part in (subject, text, html):
        assert unicodedata.normalize("NFC", part) == part


# file_feedback (either audience) is rendered for both from a real store in tests/test_feedback.py
@pytest.mark.parametrize(
    "template", [t for t in AUDIENCE if t not in UNIT_TEMPLATES and "/" not in AUDIENCE[t]]
)
def test_mail_to_snv_and_the_ppc(campaign, template):
    unit = campaign.unit_by_code["439"]
    subject, text, html = render(template, **_context(campaign, template, unit))
    message = _as_received(subject, text, html, "x@hatinh.example")
    assert message["Subject"] == subject
    text, html = _bodies(message)
    [line] = [line for line in text.splitlines() if line.startswith("Kính gửi")]
    assert line == _salutation(campaign, template, unit) and f"<p>{line}</p>" in html
    if AUDIENCE[template] == "units":
        _assert_for_units(campaign, text, html)
    else:
        _assert_for_snv(campaign, AUDIENCE[template], text, html)
    for part in (subject, text, html):
        assert unicodedata.normalize("NFC", part) == part


def test_a_survey_respondent_without_a_position(campaign):
    unit = campaign.unit_by_code["437"]
    person = SimpleNamespace(full_name="Hồ Quang Vinh", position="", email="vinh.hq@hatinh.example")
    _, text, _ = render("survey_person", **_context(campaign, "survey_person", unit) | {"person": person})
    assert "Kính gửi: đồng chí Hồ Quang Vinh (Thị xã Hồng Lĩnh)\n" in text


# ---- the approver ----------------------------------------------------------------------------------------------
def test_the_approver_is_named_from_the_campaign_file(campaign):
    assert approver_name(campaign, "admin") == "Nguyễn Văn A, Giám đốc Sở Nội vụ"
    assert approver_record(campaign, "admin") == "Nguyễn Văn A, Giám đốc Sở Nội vụ (admin)"
    assert (
        approver_shown(campaign, "Nguyễn Văn A, Giám đốc Sở Nội vụ (admin)")
        == "Nguyễn Văn A, Giám đốc Sở Nội vụ"
    )
    assert approver_record(campaign, "khach") == "khach"  # no person known: the login as it came
    assert (
        approver_shown(campaign, "Lê Văn B (Sở Nội vụ)") == "Lê Văn B (Sở Nội vụ)"
    )  # not a login in brackets
    leader = campaign.contacts.snv_leader.model_copy(update={"login": "giamdoc.snv"})
    led = campaign.model_copy(
        update={"contacts": campaign.contacts.model_copy(update={"snv_leader": leader})}
    )
    assert approver_record(led, "giamdoc.snv") == "Giám đốc Sở Nội vụ (giamdoc.snv)"
    assert approver_shown(led, "Giám đốc Sở Nội vụ (giamdoc.snv)") == "Giám đốc Sở Nội vụ"


def test_contacts_phone_and_logins_are_checked():
    data = yaml.load(HA_TINH_2023.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    data["contacts"]["coordinators"][0]["phone"] = "gọi cho tôi"
    with pytest.raises(ValidationError, match="phone"):
        Campaign.model_validate(data)
    data["contacts"]["coordinators"][0]["phone"] = "0239 3855 000"
    data["contacts"]["snv_leader"]["login"] = "admin"  # also in approvers
    with pytest.raises(ValidationError, match="approvers: tài khoản 'admin'"):
        Campaign.model_validate(data)


def test_the_ppc_reads_the_approver_s_name_and_no_link(runtime, campaign, sink):
    controller, folder = sink
    rt = Runtime(
        runtime.store_url, SmtpSettings("127.0.0.1", controller.port, sender="cchc.snv@hatinh.example")
    )
    prepare(campaign, rt)
    built = datetime(2024, 1, 18, 3, tzinfo=UTC)
    assemble_report(campaign, rt, built)
    request_report_approval(campaign, rt, f"{PUBLIC}/required_actions", built)
    record_report_decision(
        campaign, rt, False, "admin", datetime(2024, 1, 18, 8, tzinfo=UTC), "Thiếu giải trình"
    )
    assemble_report(campaign, rt, datetime(2024, 1, 19, 1, tzinfo=UTC))
    record_report_decision(campaign, rt, True, "admin", datetime(2024, 1, 19, 2, 30, tzinfo=UTC))
    deliver_report(campaign, rt, datetime(2024, 1, 19, 3, tzinfo=UTC))
    with session_scope(rt.store_url) as s:
        assert [b.decided_by for b in s.scalars(select(ReportBuild).order_by(ReportBuild.number))] == [
            "Nguyễn Văn A, Giám đốc Sở Nội vụ (admin)"
        ] * 2
    mails = {m["Subject"].split("]")[0]: m for m in read_mails(folder)}
    approval, rejected = mails["[Trình duyệt"], mails["[Báo cáo bị từ chối"]
    delivery = mails[f"Sở Nội vụ trình báo cáo kết quả tự đánh giá, chấm điểm {campaign.title_vi}"]
    assert delivery["To"] == f"{campaign.contacts.ppc_office.email}, {campaign.contacts.snv_leader.email}"
    text, html = _bodies(delivery)
    assert "(đã được lãnh đạo Sở phê duyệt: Nguyễn Văn A, Giám đốc Sở Nội vụ, 19/01/2024 09:30)" in text
    assert "admin" not in text + html
    _assert_for_units(campaign, text, html)
    text, _ = _bodies(rejected)
    assert "Nguyễn Văn A, Giám đốc Sở Nội vụ đã từ chối bản lần 1" in text
    _assert_for_snv(campaign, "coordinators", *_bodies(rejected))
    _assert_for_snv(campaign, "leader", *_bodies(approval))


def test_escalation_reaches_each_head_by_title_and_the_leader_with_the_link(runtime, campaign, sink):
    """The reminder run at the nominees' escalation, on a store where no unit has sent anything."""
    controller, folder = sink
    rt = Runtime(
        runtime.store_url, SmtpSettings("127.0.0.1", controller.port, sender="cchc.snv@hatinh.example")
    )
    prepare(campaign, rt)
    escalation = reminders.rungs(campaign, "nominees")[-1]
    assert escalation.name == "escalation"
    send_notices(campaign, rt, escalation.at)
    mails = read_mails(folder)
    heads = {
        m["To"]: m
        for m in mails
        if m["Subject"].startswith("[Báo cáo lãnh đạo] ")
        and "Cử công chức" in m["Subject"]
        and m["To"] != campaign.contacts.snv_leader.email
    }
    owners = {
        "VPUBND": "Chánh Văn phòng UBND tỉnh",
        "SNV": "Giám đốc Sở Nội vụ",
        "STP": "Giám đốc Sở Tư pháp",
        "STC": "Giám đốc Sở Tài chính",
        "STTTT": "Giám đốc Sở Thông tin và Truyền thông",
        "SKHDT": "Giám đốc Sở Kế hoạch và Đầu tư",
        "CTHUE": "Cục trưởng Cục Thuế tỉnh Hà Tĩnh",
    }
    assert set(heads) == {campaign.unit_by_code[code].head_email for code in owners}
    for code, title in owners.items():
        text, _ = _bodies(heads[campaign.unit_by_code[code].head_email])
        assert text.splitlines()[0] == f"Kính gửi: {title}"
    snv = {c.email: "coordinators" for c in campaign.contacts.coordinators} | {
        campaign.contacts.snv_leader.email: "leader"
    }
    assert {m["To"] for m in mails} & set(snv) == {campaign.contacts.snv_leader.email}  # the digests
    for message in mails:
        if message["To"] in snv:
            _assert_for_snv(campaign, snv[message["To"]], *_bodies(message))
        else:
            _assert_for_units(campaign, *_bodies(message))


def test_every_mail_template_has_its_name_for_the_summary_and_the_dashboard():
    templates = {
        p.name.split(".")[0] for p in (TEMPLATES_DIR / "email").glob("*.txt") if not p.name.startswith("_")
    }
    assert set(MAIL_KINDS) == templates
    assert all(unicodedata.is_normalized("NFC", title) for title in MAIL_KINDS.values())
