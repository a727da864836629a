"""Deterministic sample inbox for a campaign: every unit's forms as it would send them, with planted faults
that the tests know by name (the constants below). Arrival times are set as file modification times."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import cast

from par_index.campaign import Campaign
from par_index.paths import inbox_dir
from par_index.readers import head_title

from par_index_dev.legacy_fonts import to_tcvn3
from par_index_dev.writer import write_csv, write_xlsx

# ---- planted faults ------------------------------------------------------------------------------------
NOMINEES_NEVER_SENT = "STTTT"
NOMINEES_TOO_MANY = ("STP", "2")  # three people for area 2
NOMINEES_LATE = "CTHUE"  # arrives 03/01/2024
NOMINEE_NOT_ON_COUNCIL = "SNV"  # its first nominee is not a council member (a warning, not a refusal)
SURVEY_INCOMPLETE = {"443": 2, "SYT": 1}  # unit → respondents who never finish
SURVEY_IN_PROGRESS_UNIT = "SYT"  # its missing respondent answered only part of the questions
SURVEY_LATE_UNIT = "SNGV"  # one respondent completes on 02/01/2024
SCORE_MISMATCHES = {
    ("STC", "6.p1.2"): (Decimal("1.0"), Decimal("0.75")),
    ("VPUBND", "3.p3.1"): (Decimal("2.0"), Decimal("1.5")),
}  # (report, portal)
ONLY_IN_REPORT = ("SKHDT", "8.p2.1")
MISSING_EVIDENCE = ("SNV", "5.p2.2")
SELF_SCORES_LATE = "SKHDT"  # report arrives 18/01/2024
SUPERSEDED_REPORT_UNIT = "STC"  # sends a first version on 10/01, corrected on 14/01
UNREADABLE_FILE = "SCT_bao_cao_tu_cham.xlsx"
PASSWORD_FILE = "PL3_tai_khoan_co_mat_khau.xlsx"  # refused and never kept
DIFFICULTIES = {  # unit → its Appendix II "Khó khăn, vướng mắc, đề xuất" (two paragraphs, as pasted from Word)
    "STP": "Phần mềm chấm điểm chậm khi tải tài liệu kiểm chứng dung lượng lớn.\r\n"
    "Đề xuất Sở Nội vụ tổ chức tập huấn cách cung cấp tài liệu kiểm chứng trên phần mềm."
}
LEGACY_FONT_UNIT = "STTTT"  # its Appendix II names the unit in the TCVN3 font (converted, with a warning)
SURVEY_QUESTIONS = 40

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Quang", "Ngọc", "Xuân", "Hồng"]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hà",
    "Hải",
    "Hạnh",
    "Hùng",
    "Hương",
    "Lan",
    "Long",
    "Mai",
    "Nam",
    "Phong",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trung",
    "Tuấn",
    "Vinh",
    "Yến",
]
POSITIONS = ["Trưởng phòng", "Phó Trưởng phòng"]  # below the unit's leaders (readers.head_title)
IV_COLUMNS = [
    "STT",
    "Họ và tên",
    "Chức vụ",
    "Phòng/Ban",
    "Lĩnh vực phụ trách",
    "Điện thoại",
    "Email",
    "Thành viên Hội đồng thẩm định",
    "Ghi chú",
]
# the columns an Appendix IV needs and no more (names in B, areas in D): the small lists tests and benchmarks write
IV_MINIMAL_COLUMNS = ["STT", "Họ và tên", "Chức vụ", "Lĩnh vực phụ trách", "Email"]
II_COLUMNS = [
    "STT",
    "Mã tiêu chí",
    "Nội dung",
    "Điểm tối đa",
    "Điểm tự chấm",
    "Tài liệu kiểm chứng",
    "Giải trình",
    "Ghi chú",
]


def _ascii(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if unicodedata.category(c) != "Mn").lower()


class _Gen:
    def __init__(
        self, campaign: Campaign, folder: Path, seed: int, clock: Callable[[datetime], datetime] | None
    ):
        self.c, self.folder, self.rng = campaign, folder, random.Random(seed)
        self.clock = clock or (lambda moment: moment)
        # a compressed clock (live demo) needs seconds in the exports' times
        self.time_format = "%d/%m/%Y %H:%M" if clock is None else "%d/%m/%Y %H:%M:%S"
        self.used_emails: set[str] = set()

    def at(self, day: str, hour: int = 9) -> datetime:
        """A moment of the 2023 calendar (local time), through the generator's clock."""
        return self.clock(datetime.strptime(day, "%d/%m/%Y").replace(hour=hour, tzinfo=self.c.tz))

    def stamp(self, path: Path, when: datetime) -> None:
        os.utime(path, (when.timestamp(), when.timestamp()))

    def person(self, unit_code: str) -> tuple[str, str]:
        while True:
            name = f"{self.rng.choice(FAMILY)} {self.rng.choice(MIDDLE)} {self.rng.choice(GIVEN)}"
            parts = _ascii(name).split()
            email = f"{parts[-1]}.{''.join(p[0] for p in parts[:-1])}.{unit_code.lower()}@hatinh.example"
            if email not in self.used_emails:
                self.used_emails.add(email)
                return name, email

    # ---- Appendix IV ----
    def nominees(self) -> None:
        for unit_code, areas in self.c.area_owners.items():
            if unit_code == NOMINEES_NEVER_SENT:
                continue
            unit = self.c.unit_by_code[unit_code]
            rows = []
            if unit_code in self.c.nominee_rules.exactly_one:
                plan = [",".join(areas)]
            else:
                plan = []
                for area in areas:
                    count = 3 if (unit_code, area) == NOMINEES_TOO_MANY else self.rng.choice([1, 2])
                    plan += [area] * count
            members = [m for m in self.c.council.members if m.unit == unit_code]
            for i, covered in enumerate(plan, 1):
                if i <= len(members) and not (unit_code == NOMINEE_NOT_ON_COUNCIL and i == 1):
                    name, email = members[i - 1].name, members[i - 1].email
                else:
                    name, email = self.person(unit_code)
                rows.append(
                    [
                        i,
                        name,
                        self.rng.choice(POSITIONS),
                        "Phòng Cải cách hành chính",
                        covered,
                        f"09{self.rng.randrange(10**7, 10**8)}",
                        email,
                        "x",
                        None,
                    ]
                )
            path = write_xlsx(
                self.folder / f"PL4_{unit_code}.xlsx",
                "PHỤ LỤC IV — DANH SÁCH CÔNG CHỨC ĐẦU MỐI",
                [("Đơn vị", f"{unit.name_vi} ({unit.code})")],
                IV_COLUMNS,
                rows,
            )
            self.stamp(
                path,
                self.at("03/01/2024")
                if unit_code == NOMINEES_LATE
                else self.at(f"{self.rng.randint(26, 29)}/12/2023"),
            )

    # ---- survey roster and progress ----
    def survey(self) -> None:
        roster: list[list[object]] = []
        progress: list[tuple[str, datetime | None, int]] = []
        # every active unit sends its leaders; for the council office (VPDBQHHDND, not an executive agency) being in
        # MoHA's survey sample is INFERRED (ha_tinh_units_2023.yaml, par_role), treated here like a department
        for unit in self.c.active_units:
            head = head_title(unit)  # the unit's leaders by its kind: "Chủ tịch UBND", "Phó Chủ tịch UBND", …
            positions = [head, f"Phó {head}", *POSITIONS]
            people = [self.person(unit.code) for _ in range(self.rng.randint(3, 6))]
            never = SURVEY_INCOMPLETE.get(unit.code, 0)
            for i, (name, email) in enumerate(people):
                roster.append(
                    [len(roster) + 1, name, positions[min(i, 3)], unit.code, email, "Lãnh đạo, quản lý"]
                )
                if i >= len(people) - never:
                    partial = unit.code == SURVEY_IN_PROGRESS_UNIT
                    progress.append((email, None, 25 if partial else 0))
                    continue
                done: datetime | None = (
                    self.at("02/01/2024", 10)
                    if unit.code == SURVEY_LATE_UNIT and i == 0
                    else self.at(f"{self.rng.randint(22, 30)}/12/2023", self.rng.randint(8, 17))
                )
                progress.append((email, done, SURVEY_QUESTIONS))
        path = write_xlsx(
            self.folder / "khao_sat_danh_sach.xlsx",
            "DANH SÁCH NGƯỜI TRẢ LỜI PHIẾU KHẢO SÁT",
            [],
            ["STT", "Họ và tên", "Chức vụ", "Mã đơn vị", "Email", "Nhóm đối tượng"],
            roster,
        )
        self.stamp(path, self.at("21/12/2023"))
        # SNV downloads the progress the evening before each reminder day, on the deadline's evening, and after it
        snapshots = [
            (f"khao_sat_tien_do_{day[:5].replace('/', '-')}.csv", self.at(day, 20))
            for day in ("23/12/2023", "27/12/2023", "29/12/2023", "31/12/2023")
        ]
        for name, taken in [*snapshots, ("khao_sat_tien_do.csv", self.at("03/01/2024", 8))]:
            rows = []
            for email, done, answered in progress:
                if done is not None and done <= taken:
                    rows.append(
                        [
                            email,
                            "Đã hoàn thành",
                            done.strftime(self.time_format),
                            SURVEY_QUESTIONS,
                            SURVEY_QUESTIONS,
                        ]
                    )
                else:
                    rows.append(
                        [
                            email,
                            "Đang trả lời" if answered else "Chưa trả lời",
                            "",
                            min(answered, SURVEY_QUESTIONS - 1) if answered else 0,
                            SURVEY_QUESTIONS,
                        ]
                    )
            path = write_csv(
                self.folder / name,
                ["Email", "Trạng thái", "Hoàn thành lúc", "Số câu đã trả lời", "Tổng số câu"],
                rows,
            )
            self.stamp(path, taken)

    # ---- Appendix II and the scoring software's export ----
    def self_scores(self) -> None:
        catalogue = self.c.catalogue
        by_unit: dict[str, list] = {}
        for code, unit_code in self.c.assignment_of.items():
            by_unit.setdefault(unit_code, []).append(catalogue[code])
        portal = []
        for unit_code, leaves in by_unit.items():
            unit = self.c.unit_by_code[unit_code]
            rows = []
            for n, leaf in enumerate(leaves, 1):
                share = self.rng.choice([Decimal(1), Decimal(1), Decimal("0.75"), Decimal("0.5")])
                score = (leaf.max_points * share / leaf.step).to_integral_value() * leaf.step
                report_score, portal_score = SCORE_MISMATCHES.get((unit_code, leaf.code), (score, score))
                evidence: str | None = (
                    f"Số {self.rng.randint(10, 999)}/KH-UBND ngày {self.rng.randint(1, 28):02d}/"
                    f"{self.rng.randint(1, 12):02d}/2023"
                )
                if (unit_code, leaf.code) == MISSING_EVIDENCE:
                    evidence = None
                rows.append(
                    [
                        n,
                        leaf.code,
                        leaf.name_vi,
                        str(leaf.max_points).replace(".", ","),
                        str(report_score).replace(".", ","),
                        evidence,
                        None,
                        None,
                    ]
                )
                if (unit_code, leaf.code) != ONLY_IN_REPORT:
                    updated = self.at(f"{self.rng.randint(8, 12)}/01/2024", self.rng.randint(8, 17))
                    portal.append(
                        [
                            unit_code,
                            leaf.code,
                            float(portal_score),
                            0 if evidence is None else 1,
                            "Đã nộp",
                            updated.strftime(self.time_format),
                        ]
                    )
            unit_label = (
                to_tcvn3(unit.name_vi) if unit_code == LEGACY_FONT_UNIT else f"{unit.name_vi} ({unit.code})"
            )
            header: list[tuple[str, object]] = [
                ("Đơn vị", unit_label),
                ("Số", f"{self.rng.randint(10, 300)}/BC-{unit_code}"),
                ("Ngày", "15/01/2024"),
                ("Người ký", self.person(unit_code)[0]),
                *(
                    [("Khó khăn, vướng mắc, đề xuất", DIFFICULTIES[unit_code])]
                    if unit_code in DIFFICULTIES
                    else []
                ),
            ]
            title = "PHỤ LỤC II — BÁO CÁO KẾT QUẢ TỰ CHẤM ĐIỂM"
            if unit_code == SUPERSEDED_REPORT_UNIT:
                first = [
                    r[:4] + [_one_step_lower(r[4], cast(Decimal, catalogue[r[1]].step))] + r[5:] for r in rows
                ]
                path = write_xlsx(
                    self.folder / f"PL2_{unit_code}_ban_dau.xlsx", title, header, II_COLUMNS, first
                )
                self.stamp(path, self.at("10/01/2024"))
            path = write_xlsx(self.folder / f"PL2_{unit_code}.xlsx", title, header, II_COLUMNS, rows)
            self.stamp(
                path,
                self.at("18/01/2024")
                if unit_code == SELF_SCORES_LATE
                else self.at(f"{self.rng.randint(13, 15)}/01/2024"),
            )
        path = write_csv(
            self.folder / "phan_mem_cham_diem_xuat.csv",
            [
                "Mã đơn vị",
                "Mã tiêu chí",
                "Điểm tự đánh giá",
                "Số tài liệu kiểm chứng",
                "Trạng thái",
                "Cập nhật lúc",
            ],
            portal,
        )
        self.stamp(path, self.at("16/01/2024", 20))  # SNV downloads the software's export on the due evening

    def accounts(self) -> None:
        """Appendix III: SNV's list of portal accounts, and a copy someone sent with passwords in it."""
        rows = [
            [
                n,
                self.c.unit_by_code[u].name_vi,
                u,
                f"{u.lower()}.cchc",
                ", ".join(areas),
                self.c.unit_by_code[u].name_vi,
                self.c.unit_by_code[u].email,
            ]
            for n, (u, areas) in enumerate(self.c.area_owners.items(), 1)
        ]
        columns = [
            "STT",
            "Đơn vị",
            "Mã đơn vị",
            "Tên đăng nhập",
            "Lĩnh vực/tiêu chí được phân quyền",
            "Người quản lý tài khoản",
            "Email",
        ]
        path = write_xlsx(
            self.folder / "PL3_tai_khoan.xlsx", "PHỤ LỤC III — DANH SÁCH TÀI KHOẢN", [], columns, rows
        )
        self.stamp(path, self.at("20/12/2023"))
        path = write_xlsx(
            self.folder / PASSWORD_FILE,
            "PHỤ LỤC III",
            [],
            [*columns[:4], "Mật khẩu"],
            [[*r[:4], f"Hatinh@{self.rng.randint(1000, 9999)}"] for r in rows[:2]],
        )
        self.stamp(path, self.at("21/12/2023"))

    def unreadable(self) -> None:
        path = self.folder / UNREADABLE_FILE
        path.write_bytes(b"PK\x03\x04 this is not really a workbook" + bytes(range(256)))
        self.stamp(path, self.at("12/01/2024"))


def _one_step_lower(score: str, step: Decimal) -> str:
    value = Decimal(score.replace(",", "."))
    return str(value - step if value >= step else value).replace(".", ",")


def generate_inbox(
    campaign: Campaign,
    folder: Path | None = None,
    seed: int = 2023,
    clock: Callable[[datetime], datetime] | None = None,
) -> Path:
    """(Re)write the sample inbox of ``campaign``; the same seed always gives the same files and contents.

    ``clock`` maps the 2023 calendar onto another one (the live demo compresses it into minutes); every arrival
    time and every time written in the files goes through it."""
    folder = folder or inbox_dir(campaign.id)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    gen = _Gen(campaign, folder, seed, clock)
    gen.nominees()
    gen.survey()
    gen.self_scores()
    gen.accounts()
    gen.unreadable()
    return folder
