"""Campaign files (one per province × year): loading, validation, and the facts derived from them."""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal, cast
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from par_index.catalogue import YAML_LOADER, Catalogue, load_catalogue
from par_index.errors import CampaignError
from par_index.paths import CAMPAIGNS_DIR, extra_campaigns_dir
from par_index.phase_registry import COLLECTED, PHASES
from par_index.text import nfc, vn_date
from par_index.workdays import ONE_DAY, add_working_days, next_working_day

Status = Literal["confirmed", "inferred"]
PhaseKey = Literal["nominees", "survey", "self_scores", "report"]  # the keys of a campaign's deadlines


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Province(_Model):
    """The province the campaign belongs to."""

    code: str
    slug: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_vi: str
    short_vi: str


class CampaignHead(_Model):
    """The campaign's identity: id, province, year, catalogue, time zone and UI address."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    province: Province
    year: int = Field(ge=2017, le=2100)
    catalogue: str
    timezone: str = "Asia/Ho_Chi_Minh"
    ui_base_url: str = (
        "http://localhost:8080"  # the Airflow UI's public address unless AIRFLOW_BASE_URL is set
    )
    trial: bool = (
        False  # a trial run (make up): "(thử nghiệm)" in titles, DAG names, mail subjects and the report
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)
        return value


class Directive(_Model):
    """The directive that launches the campaign (issuer, number, title, date)."""

    issuer_vi: str
    number: str
    number_status: Status = "confirmed"
    title_vi: str
    issued_on: date
    issued_on_status: Status = "confirmed"
    signer: str
    signer_title_vi: str


DURATION = re.compile(r"^(\d+)([dhms])$")
DURATION_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """'7d', '12h', '5m', '30s' → timedelta."""
    match = DURATION.match(text.strip())
    if not match:
        raise ValueError(f"thời lượng {text!r} không hợp lệ (ví dụ: 7d, 12h, 5m, 30s)")
    return timedelta(**{DURATION_UNITS[match.group(2)]: int(match.group(1))})


def _valid_duration(value: str) -> str:
    parse_duration(value)
    return value


Duration = Annotated[str, AfterValidator(_valid_duration)]


class Ladder(_Model):
    """When reminders go out for one deadline. Durations are '7d', '12h' or '5m'."""

    at_start: bool = True  # a first notice when the campaign starts, with the blank form attached
    before: list[Duration] = ["7d", "3d", "1d"]  # before the due day (before the deadline for a date-time)
    on_due_day: bool = True
    overdue_every: Duration = "1d"
    overdue_times: int = Field(3, ge=0)
    escalate: bool = True  # after the overdue reminders: the unit's head and SNV's leader

    @property
    def by_working_days(self) -> bool:
        """A ladder counted in whole days keeps to working days (reminders.py); one in hours or minutes (a
        compressed rehearsal) runs by the clock."""
        return all(parse_duration(d) % ONE_DAY == timedelta(0) for d in [*self.before, self.overdue_every])


class Deadline(_Model):
    """One deadline of the directive: due date, titles, owner and reminder ladder."""

    due: date | datetime
    title_vi: str  # the directive's wording: the deadlines' tables, the deadline tasks and panel
    short_title_vi: str | None = (
        None  # the phase's work in mails, the report and task names (default: title_vi)
    )
    owner: str
    ladder: Ladder | None = None  # default: the campaign's reminders.ladder


class Reminders(_Model):
    """When and how often reminders, alerts and sensor checks happen."""

    schedule: str = "0 8 * * *"  # cron, in the campaign's time zone
    min_gap: Duration = "20h"  # between two reminders to the same person for the same deadline
    max_per_recipient: int = Field(8, ge=1)  # per deadline
    alerts_before: list[Duration] = [
        "3d",
        "1d",
    ]  # the coordinators' notices before each deadline (reminder DAG)
    alert_time: str = Field(
        "08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$"
    )  # local time of an alert in whole days
    sensor_poke: Duration = (
        "5m"  # how often a phase reads MoHA's feed, when connected (files wake it at once)
    )
    close_grace: Duration = "1d"  # how long after a deadline its phase may still be closing (sensor lifetime)
    ladder: Ladder = Ladder()


class WorkCalendar(_Model):
    """The campaign's own changes to Vietnam's working calendar (workdays.py): the province's extra days off, and
    working days such as a Saturday worked in lieu."""

    extra_days_off: list[date] = []
    extra_working_days: list[date] = []

    @model_validator(mode="after")
    def _disjoint(self) -> WorkCalendar:
        both = sorted(set(self.extra_days_off) & set(self.extra_working_days))
        if both:
            raise ValueError(
                f"ngày {', '.join(vn_date(d) for d in both)} vừa là ngày nghỉ vừa là ngày làm việc"
            )
        return self


class NomineeRules(_Model):
    """How many nominees each unit names per area (Appendix IV)."""

    exactly_one: list[str] = []
    per_area_min: int = Field(1, ge=0)
    per_area_max: int = Field(2, ge=1)


class CouncilMember(_Model):
    """A member of the appraisal council: who receives the start-of-campaign notice and may be nominated."""

    name: str
    title_vi: str = ""  # their position, written after the name in the notice ("Phó Giám đốc Sở Nội vụ")
    email: EmailStr
    unit: str


class Council(_Model):
    """The provincial PAR appraisal council; nominees should be members (a warning otherwise)."""

    decision: str = ""
    status: Status = "confirmed"
    members_status: Literal["real", "sample"] = "real"  # sample: invented names and mailboxes, replace them
    notice_vi: list[str] = []  # the start-of-campaign notice's paragraphs: the members' role in the directive
    members: list[CouncilMember] = []

    def has(self, name: str, email: str) -> bool:
        """Whether the council has a member with this name or e-mail address."""
        key = nfc(name).casefold()
        return any(m.email.lower() == email.lower() or nfc(m.name).casefold() == key for m in self.members)


PHONE = r"^\+?[0-9][0-9 .()-]{5,22}[0-9]$"


class Contact(_Model):
    """A person the campaign's mails name or write to."""

    name: str
    email: EmailStr
    phone: str | None = Field(None, pattern=PHONE)  # named in the units' mails with the coordinators' mailbox
    login: str | None = (
        None  # the Airflow login (SNV's leader: whose decision on the report names this contact)
    )


class Contacts(_Model):
    """The coordinators, SNV's leader and the PPC's office."""

    status: Literal["real", "sample"] = "real"
    coordinators: list[Contact] = Field(min_length=1)
    snv_leader: Contact
    ppc_office: Contact


class Approver(_Model):
    """A person who may decide on the report, by Airflow login: the build and the PPC's mail name them."""

    name: str
    title_vi: str = ""


class Budget(_Model):
    """The campaign's budget estimate (SNV with the Department of Finance), tracked by its document: the
    coordinator fills in the reference and date when the document is issued."""

    title_vi: str = "Dự toán kinh phí triển khai xác định Chỉ số CCHC"
    prepared_by: str | None = None  # unit code; default: the coordinating unit (Campaign.budget_unit)
    with_unit: str | None = None  # the unit it is prepared with (the Department of Finance)
    status: Literal["not_started", "drafting", "submitted", "approved"] = "not_started"
    document: str | None = None  # e.g. "Tờ trình số 15/TTr-SNV"
    dated: date | None = None
    note_vi: str = ""


BUDGET_STATUS_TITLES = {
    "not_started": "Chưa lập",
    "drafting": "Đang lập",
    "submitted": "Đã trình",
    "approved": "Đã được phê duyệt",
}


class ReportText(_Model):
    """What the Word report says beyond the figures (Decree 30/2020/NĐ-CP layout): the agency header, number,
    place, addressee, signature block, recipients ("Nơi nhận") and the proposals staff write."""

    parent_agency_vi: str
    agency_vi: str
    # the clerk gives the number when the report is issued; absent: Campaign.report_number ("…/BC-<coordinator>")
    number: str | None = None
    place_vi: str
    addressee_vi: str = "Ủy ban nhân dân tỉnh"
    signer_title_vi: list[str] = ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"]
    signer: str = ""
    signer_status: Literal["real", "sample"] = "real"  # sample: an invented name, replace it before signing
    recipients_vi: list[str] = Field(min_length=1)
    difficulties_vi: list[str] = []  # beyond what the data shows (late units, mismatches, missing evidence)
    proposals_vi: list[str] = []


class HeadTitleRule(_Model):
    """The head's title of a unit whose name starts with ``prefix`` ("" matches every name)."""

    prefix: str = ""
    title_vi: str


class UnitKind(_Model):
    """A kind of unit: the group title the dashboard shows, how its head is titled (the first rule whose prefix
    starts the unit's name, else "Thủ trưởng"), and whether mail addresses it as its People's Committee
    ("UBND huyện …": districts and communes)."""

    title_vi: str
    head_titles: list[HeadTitleRule] = []
    local: bool = False


UNIT_KIND_CODE = r"^[a-z][a-z0-9_]{0,31}$"  # the store keeps a unit's kind in 32 characters
DEFAULT_UNIT_KINDS: dict[str, UnitKind] = {  # a campaign file's ``unit_kinds`` adds to these or replaces one
    "department": UnitKind(
        title_vi="Sở, ban, ngành",
        head_titles=[
            HeadTitleRule(prefix="Sở ", title_vi="Giám đốc"),
            HeadTitleRule(prefix="Văn phòng ", title_vi="Chánh Văn phòng"),
            HeadTitleRule(prefix="Thanh tra ", title_vi="Chánh Thanh tra"),
            HeadTitleRule(prefix="Ban ", title_vi="Trưởng ban"),
        ],
    ),
    "council_office": UnitKind(
        title_vi="Văn phòng Đoàn ĐBQH và HĐND", head_titles=[HeadTitleRule(title_vi="Chánh Văn phòng")]
    ),
    "central_agency": UnitKind(
        title_vi="Cơ quan ngành dọc", head_titles=[HeadTitleRule(prefix="Cục ", title_vi="Cục trưởng")]
    ),
    "district": UnitKind(
        title_vi="Cấp huyện", head_titles=[HeadTitleRule(title_vi="Chủ tịch UBND")], local=True
    ),
    "commune": UnitKind(title_vi="Cấp xã", head_titles=[HeadTitleRule(title_vi="Chủ tịch UBND")], local=True),
}


class Unit(_Model):
    """A unit taking part in the campaign, with its validity dates and addresses."""

    code: str = Field(pattern=r"^[A-Z0-9_]+$")
    name_vi: str
    kind: str = Field(pattern=UNIT_KIND_CODE)  # a key of the campaign's unit kinds (Campaign.kinds)
    valid_from: date | None = None
    valid_until: date | None = None
    email: EmailStr
    head_email: EmailStr
    head_title_vi: str | None = None  # the head's title when the rule of readers.head_title gets it wrong
    status: Status = "confirmed"
    _kind: UnitKind | None = PrivateAttr(None)  # set by the campaign from its kinds

    @property
    def kind_def(self) -> UnitKind:
        """The unit's kind as its campaign defines it (a unit outside a campaign: the default kinds)."""
        return self._kind or DEFAULT_UNIT_KINDS[self.kind]

    def valid_on(self, day: date) -> bool:
        """Whether the unit exists on ``day``."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


class Campaign(_Model):
    """A validated campaign file. ``catalogue`` is loaded with it and checked against the assignments."""

    campaign: CampaignHead
    directive: Directive
    deadlines: dict[PhaseKey, Deadline]
    nominee_rules: NomineeRules = NomineeRules()
    reminders: Reminders = Reminders()
    calendar: WorkCalendar = WorkCalendar()
    unit_kinds: dict[str, UnitKind] = {}  # kind code → kind, added to (or replacing) DEFAULT_UNIT_KINDS
    council: Council = Council()
    contacts: Contacts
    approvers: dict[str, Approver] = {}  # Airflow login → the person it stands for (readers.approver_name)
    report: ReportText
    budget: Budget = Budget()
    assignments_status: Status = "confirmed"
    assignments: dict[str, str]
    units: list[Unit] = Field(min_length=1)
    example_unit: str | None = (
        None  # whose name fills the blank forms' example sheet (default: the first unit)
    )

    @field_validator("deadlines")
    @classmethod
    def _all_deadlines(cls, value: dict) -> dict:
        missing = [p for p in PHASES if p not in value]
        if missing:
            raise ValueError(f"thiếu hạn: {', '.join(missing)}")
        return value

    @field_validator("units")
    @classmethod
    def _unique_units(cls, value: list[Unit]) -> list[Unit]:
        seen: set[str] = set()
        for unit in value:
            if unit.code in seen:
                raise ValueError(f"mã đơn vị {unit.code} bị trùng")
            seen.add(unit.code)
        return value

    @field_validator("unit_kinds")
    @classmethod
    def _kind_codes(cls, value: dict[str, UnitKind]) -> dict[str, UnitKind]:
        bad = [code for code in value if not re.match(UNIT_KIND_CODE, code)]
        if bad:
            raise ValueError(
                f"mã loại đơn vị {', '.join(bad)} không hợp lệ (chữ thường không dấu, số và _, tối đa 32 ký tự, ví dụ: department)"
            )
        return value

    @property
    def kinds(self) -> dict[str, UnitKind]:
        """Kind code → kind: the default kinds, with the campaign file's ``unit_kinds`` added or replacing."""
        return {**DEFAULT_UNIT_KINDS, **self.unit_kinds}

    @model_validator(mode="after")
    def _references(self) -> Campaign:
        codes = {u.code for u in self.units}
        kinds = self.kinds
        for each in self.units:
            if each.kind not in kinds:
                raise ValueError(
                    f"units: loại đơn vị {each.kind!r} của {each.code} không có trong unit_kinds "
                    f"(có: {', '.join(kinds)})"
                )
            each._kind = kinds[each.kind]
        for code, unit in self.assignments.items():
            if unit not in codes:
                raise ValueError(f"assignments[{code!r}]: đơn vị {unit!r} không có trong danh sách units")
        for member in self.council.members:
            if member.unit not in codes:
                raise ValueError(
                    f"council.members: đơn vị {member.unit!r} của {member.name} không có trong units"
                )
        for budget_unit in (self.budget.prepared_by, self.budget.with_unit):
            if budget_unit is not None and budget_unit not in codes:
                raise ValueError(f"budget: đơn vị {budget_unit!r} không có trong danh sách units")
        for unit in [*self.nominee_rules.exactly_one, *([self.example_unit] if self.example_unit else [])]:
            if unit not in codes:
                field = "example_unit" if unit == self.example_unit else "nominee_rules.exactly_one"
                raise ValueError(f"{field}: đơn vị {unit!r} không có trong danh sách units")
        if self.contacts.snv_leader.login and self.contacts.snv_leader.login in self.approvers:
            raise ValueError(
                f"approvers: tài khoản {self.contacts.snv_leader.login!r} đã là của "
                "contacts.snv_leader (login)"
            )
        return self

    # ---- derived facts -------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        """The campaign's id."""
        return self.campaign.id

    @property
    def dag_id(self) -> str:
        """``par_<province>_<year>``; a trial shares its province and year with a real campaign: ``par_<id>``."""
        if self.campaign.trial:
            return f"par_{self.campaign.id}"
        return f"par_{self.campaign.province.slug}_{self.campaign.year}"

    @property
    def rebuild_dag_id(self) -> str:
        """The campaign's "Lập lại báo cáo" DAG: a new build after the leader rejected the report."""
        return f"{self.dag_id}_rebuild_report"

    @property
    def last_due_day(self) -> date:
        """The campaign's last deadline, as a local day: the latest due day of a request (par_index.requests).
        Reminders run until the overdue ladder after it (:attr:`ends_at`), so a request due then is reminded in
        full."""
        return max(self.deadline_at(p) for p in PHASES).astimezone(self.tz).date()

    @property
    def request_dag_id(self) -> str:
        """The campaign's "Gửi yêu cầu" DAG: a coordinator or a nominee sends units a request (par_index.requests)."""
        return f"{self.dag_id}_request"

    @property
    def import_catalogue_dag_id(self) -> str:
        """The campaign's "Nạp Bảng 2 chính thức" DAG: the official Table 2 loaded from a workbook."""
        return f"{self.dag_id}_import_catalogue"

    @property
    def setup_dag_id(self) -> str:
        """The campaign's "Sổ thiết lập chiến dịch" DAG: export, check and apply the setup workbook."""
        return f"{self.dag_id}_setup"

    @property
    def tz(self) -> ZoneInfo:
        """The campaign's time zone."""
        return ZoneInfo(self.campaign.timezone)

    @property
    def title_vi(self) -> str:
        """The campaign's title in Vietnamese (a trial says so)."""
        title = f"Chỉ số CCHC {self.campaign.year} — {self.campaign.province.name_vi}"
        return f"{title} (thử nghiệm)" if self.campaign.trial else title

    def phase_title(self, phase: str) -> str:
        """How mails, the report and the tasks name the phase: the campaign file's ``deadlines.<phase>``."""
        deadline = self.deadlines[cast(PhaseKey, phase)]
        return deadline.short_title_vi or deadline.title_vi

    @property
    def coordinator(self) -> str:
        """The coordinating unit's code (the Department of Home Affairs): the report deadline's owner."""
        return self.deadlines["report"].owner

    @property
    def report_number(self) -> str:
        """The report's "Số:" line: ``report.number``, else a blank number with the coordinator's code
        ("…/BC-<coordinator>") for the clerk to fill in."""
        return self.report.number or f"…/BC-{self.coordinator}"

    @property
    def budget_unit(self) -> str:
        """The unit preparing the budget estimate: ``budget.prepared_by``, else the coordinating unit."""
        return self.budget.prepared_by or self.coordinator

    @property
    def ui_base_url(self) -> str:
        """The Airflow UI's public address: ``AIRFLOW_BASE_URL`` when set, else the campaign's ``ui_base_url``."""
        return (os.environ.get("AIRFLOW_BASE_URL", "").strip() or self.campaign.ui_base_url).rstrip("/")

    def ui_link(self, dag_id: str | None = None) -> str:
        """The public link to a DAG's page (default: the campaign's), for the coordinators' and the leader's mail."""
        return f"{self.ui_base_url}/dags/{dag_id or self.dag_id}"

    def ladder_for(self, phase: str) -> Ladder:
        """The phase's reminder ladder: its own, or the campaign's default."""
        return self.deadlines[cast(PhaseKey, phase)].ladder or self.reminders.ladder

    def due_anchor(self, phase: str) -> datetime:
        """Start of the due day for a date deadline (the deadline itself for a date-time): the 'before' steps of
        the reminder ladder count back from here."""
        due = self.deadlines[cast(PhaseKey, phase)].due
        if isinstance(due, datetime):
            return self.deadline_at(phase)
        return datetime.combine(due, time(0, 0), tzinfo=self.tz)

    @property
    def ends_at(self) -> datetime:
        """When nothing is left to remind: the last deadline plus the longest overdue ladder; a ladder in days
        counts working days, and its escalation may wait for the next working day (reminders.py)."""
        last = max(self.deadline_at(p) for p in PHASES)
        tail = max(
            parse_duration(self.ladder_for(p).overdue_every) * (self.ladder_for(p).overdue_times + 1)
            for p in PHASES
        )
        ends = last + tail
        for phase in COLLECTED:
            ladder = self.ladder_for(phase)
            if ladder.by_working_days:
                days = parse_duration(ladder.overdue_every).days * ladder.overdue_times
                escalation = add_working_days(
                    self.deadline_at(phase).astimezone(self.tz), days, self.calendar
                )
                after = next_working_day(escalation.date(), self.calendar)
                ends = max(ends, datetime.combine(after, time(23, 59, 59), tzinfo=self.tz))
        return ends

    def deadline_at(self, phase: str) -> datetime:
        """The deadline as an aware datetime; a bare date means the end of that local day."""
        due = self.deadlines[cast(PhaseKey, phase)].due
        if isinstance(due, datetime):
            return due if due.tzinfo else due.replace(tzinfo=self.tz)
        return datetime.combine(due, time(23, 59, 59), tzinfo=self.tz)

    def alert_moments(self) -> list[tuple[str, str | None, datetime]]:
        """(phase, before, moment) of each coordinators' mail about a deadline, any day of the week: a notice
        ``before`` it (sent by the reminder DAG's first run from its moment), in whole days at
        ``reminders.alert_time`` of that local day ('3d' → 08:00 three days before the due day), a shorter one
        exactly that long before; ``before`` None at the deadline itself ("đã đến hạn", from the deadlines DAG
        when the deadline is missed)."""
        at = time.fromisoformat(self.reminders.alert_time)
        moments = []
        for phase in PHASES:
            deadline = self.deadline_at(phase).astimezone(self.tz)
            for before in [*self.reminders.alerts_before, None]:
                lead = parse_duration(before) if before else None
                if lead is None:
                    moment = deadline
                elif lead % ONE_DAY:
                    moment = deadline - lead
                else:
                    moment = datetime.combine(deadline.date() - lead, at, tzinfo=self.tz)
                moments.append((phase, before, moment))
        return moments

    @property
    def starts_at(self) -> datetime:
        """Midnight of the directive's day, in the campaign's time zone."""
        return datetime.combine(self.directive.issued_on, time(0, 0), tzinfo=self.tz)

    @property
    def close_grace(self) -> timedelta:
        """How long after a deadline a phase may still close."""
        return parse_duration(self.reminders.close_grace)

    def collection_lifetime(self, phase: str) -> timedelta:
        """A phase sensor's timeout: from the campaign's start to the phase's deadline plus the grace that
        closing needs, so a sensor started with the campaign can never time out before its deadline."""
        return self.deadline_at(phase) + self.close_grace - self.starts_at

    @cached_property
    def reminder_interval(self) -> timedelta:
        """The shortest gap between two runs of the reminder schedule (cron, local time): a reminder run must
        end within it, so that the next one is not held back."""
        from croniter import croniter

        ticks = croniter(self.reminders.schedule, self.starts_at)
        moments = [ticks.get_next(datetime) for _ in range(32)]
        return min(later - earlier for earlier, later in zip(moments, moments[1:], strict=False))

    @property
    def lifetime(self) -> timedelta:
        """From the campaign's start to its end plus the closing grace: how long the report may await its
        leader's decision."""
        return self.ends_at + self.close_grace - self.starts_at

    @cached_property
    def active_units(self) -> list[Unit]:
        """Units valid on the directive's date, in file order."""
        return [u for u in self.units if u.valid_on(self.directive.issued_on)]

    @cached_property
    def unit_by_code(self) -> dict[str, Unit]:
        """Active unit code → unit."""
        return {u.code: u for u in self.active_units}

    @cached_property
    def unit_names(self) -> dict[str, str]:
        """Active unit code → its name."""
        return {u.code: u.name_vi for u in self.active_units}

    @property
    def example(self) -> Unit:
        """The unit whose name fills the blank forms' example sheet (``example_unit``, else the first unit)."""
        return self.unit_by_code.get(self.example_unit or "") or self.active_units[0]

    def unit_for(self, text: str) -> Unit | None:
        """Find a unit by code or exact name (case and diacritics as written, NFC)."""
        text = nfc(text)
        if text.upper() in self.unit_by_code:
            return self.unit_by_code[text.upper()]
        match = re.search(r"\(([A-Za-z0-9_]+)\)\s*$", text)
        if match and match.group(1).upper() in self.unit_by_code:
            return self.unit_by_code[match.group(1).upper()]
        lowered = text.casefold()
        for unit in self.active_units:
            if nfc(unit.name_vi).casefold() == lowered:
                return unit
        return None

    @cached_property
    def catalogue(self) -> Catalogue:
        """The campaign's criteria catalogue (Table 2)."""
        return load_catalogue(self.campaign.catalogue)

    @cached_property
    def official_assignments(self) -> dict[str, str]:
        """Appendix I with its codes as the catalogue knows them: a provisional code written in the campaign file
        (``1.p1``) is translated through the imported catalogue's ``code_map`` (``1.1``). The one place where
        campaign files meet the code map."""
        return {self.catalogue.official(code): unit for code, unit in self.assignments.items()}

    @cached_property
    def assignment_of(self) -> dict[str, str]:
        """Self-scored leaf code → unit code (Appendix I; the longest matching prefix wins)."""
        result: dict[str, str] = {}
        assignments = self.official_assignments
        for leaf in self.catalogue.self_scored_leaves:
            parts = leaf.code.split(".")
            for n in range(len(parts), 0, -1):
                unit = assignments.get(".".join(parts[:n]))
                if unit:
                    result[leaf.code] = unit
                    break
        return result

    @cached_property
    def area_owners(self) -> dict[str, list[str]]:
        """Unit code → sorted area codes it owns (has at least one assigned leaf in)."""
        owners: dict[str, set[str]] = {}
        for code, unit in self.assignment_of.items():
            owners.setdefault(unit, set()).add(code.split(".")[0])
        return {unit: sorted(areas, key=int) for unit, areas in owners.items()}


def _format_validation_error(path: Path, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(gốc)"
        value = err.get("input")
        shown = "" if isinstance(value, dict | list) else f", giá trị {value!r}"
        parts.append(f"trường '{field}'{shown}: {err['msg']}")
    return f"Tệp chiến dịch {path.name} không hợp lệ — " + "; ".join(parts)


def load_campaign(path: str | Path) -> Campaign:
    """Load and validate a campaign file, including its catalogue and Appendix I coverage."""
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except FileNotFoundError as exc:
        raise CampaignError(f"Không tìm thấy tệp chiến dịch {path}.", code="CMP001") from exc
    except yaml.YAMLError as exc:
        raise CampaignError(f"Tệp chiến dịch {path.name} sai cú pháp YAML: {exc}", code="CMP002") from exc
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as exc:
        raise CampaignError(_format_validation_error(path, exc), code="CMP003") from exc
    catalogue = campaign.catalogue
    for code in campaign.assignments:
        if catalogue.official(code) not in catalogue:
            raise CampaignError(
                f"Tệp chiến dịch {path.name}: trường 'assignments', mã {code!r} không có trong "
                f"danh mục {catalogue.code}.",
                code="CMP004",
            )
    unassigned = [
        leaf.code for leaf in catalogue.self_scored_leaves if leaf.code not in campaign.assignment_of
    ]
    if unassigned:
        raise CampaignError(
            f"Tệp chiến dịch {path.name}: trường 'assignments' chưa giao các mã {', '.join(unassigned)}.",
            code="CMP005",
        )
    inactive = sorted({u for u in campaign.assignment_of.values() if u not in campaign.unit_by_code})
    if inactive:
        raise CampaignError(
            f"Tệp chiến dịch {path.name}: đơn vị {', '.join(inactive)} được giao tiêu chí nhưng "
            f"không còn hiệu lực ngày {campaign.directive.issued_on:%d/%m/%Y}.",
            code="CMP006",
        )
    return campaign


def campaign_files(folder: Path | None = None) -> list[Path]:
    """The campaign files of ``folder`` (default: the bundled ones, then those of ``PAR_EXTRA_CAMPAIGNS_DIR``, e.g.
    the trial campaign that ``make up`` generates)."""
    if folder is not None:
        return sorted(Path(folder).glob("*.yaml"))
    extra = extra_campaigns_dir()
    return sorted(CAMPAIGNS_DIR.glob("*.yaml")) + (sorted(extra.glob("*.yaml")) if extra else [])
