"""Table 2 catalogue (areas → criteria → sub-criteria): loading and validation.

A catalogue that breaks a rule is refused with a :class:`CatalogueError` naming the code at fault. A catalogue
imported by the coordinator (``catalogue_import``) lives in :func:`criteria_override_dir` and is read before the
bundled one; its ``code_map`` translates provisional codes (``1.p1``) into MoHA's official ones (``1.1``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path

import yaml

from par_index.errors import CatalogueError
from par_index.paths import CRITERIA_DIR, criteria_override_dir

YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster
METHODS = ("self", "survey")
PROVENANCE = ("confirmed", "provisional")


@dataclass(frozen=True)
class Item:
    """One node of Table 2. ``level`` is 1 (area), 2 (criterion) or 3 (sub-criterion)."""

    code: str
    name_vi: str
    level: int
    max_points: Decimal
    method: str | None
    responsible_unit: str | None
    provenance: str
    source: str
    parent: str | None
    children: tuple[str, ...] = field(default=())
    step: Decimal | None = None

    @property
    def area(self) -> str:
        """The code of the item's area (level 1)."""
        return self.code.split(".")[0]

    @property
    def is_leaf(self) -> bool:
        """Whether the item has no children (it is scored)."""
        return not self.children

    @property
    def provisional(self) -> bool:
        """Whether the item is marked provisional (its provenance)."""
        return self.provenance == "provisional"


@dataclass(frozen=True)
class Catalogue:
    """A criteria catalogue (Table 2): its items in order and its totals."""

    code: str
    name_vi: str
    legal_basis: str
    items: dict[str, Item]  # in Table 2 order
    totals: dict[str, Decimal]
    note_vi: str
    code_map: dict[str, str] = field(default_factory=dict)  # provisional code → official code
    default_step: Decimal | None = None

    def official(self, code: str) -> str:
        """The code as the catalogue knows it now: a provisional code translated through ``code_map``."""
        return self.code_map.get(code, code)

    def __getitem__(self, code: str) -> Item:
        """The item with this code."""
        return self.items[code]

    def __contains__(self, code: object) -> bool:
        """Whether the catalogue has an item with this code."""
        return code in self.items

    def level(self, level: int) -> list[Item]:
        """The items of one level, in order."""
        return [item for item in self.items.values() if item.level == level]

    @property
    def areas(self) -> list[Item]:
        """The areas (level 1 items)."""
        return self.level(1)

    @cached_property
    def leaves(self) -> list[Item]:
        """The scored items (those without children)."""
        return [item for item in self.items.values() if item.is_leaf]

    @cached_property
    def self_scored_leaves(self) -> list[Item]:
        """The leaves the province scores itself."""
        return [item for item in self.leaves if item.method == "self"]

    @property
    def has_provisional(self) -> bool:
        """Whether any item is provisional."""
        return any(item.provisional for item in self.items.values())


def _points(value: object, code: str) -> Decimal:
    try:
        points = Decimal(str(value))
    except Exception as exc:  # noqa: BLE001 - any unparsable value is the same user error
        raise CatalogueError(f"Mã {code}: điểm tối đa {value!r} không phải là số.", code="CAT001") from exc
    if points < 0:
        raise CatalogueError(f"Mã {code}: điểm tối đa {value} âm.", code="CAT001")
    return points


# One check after another over the YAML, each with its own error code: flat, not nested.
def parse_catalogue(data: dict, origin: str = "<catalogue>") -> Catalogue:  # noqa: C901
    """Build and validate a catalogue from its YAML structure."""
    if not isinstance(data, dict) or "catalogue" not in data or "areas" not in data:
        raise CatalogueError(f"{origin}: thiếu khóa 'catalogue' hoặc 'areas'.", code="CAT002")
    head = data["catalogue"]
    default_step = head.get("default_step")
    items: dict[str, Item] = {}

    def add(node: dict, level: int, parent: Item | None) -> None:
        code = str(node.get("code", "")).strip()
        if not code:
            raise CatalogueError(
                f"{origin}: một mục cấp {level} dưới {parent.code if parent else 'gốc'} thiếu mã.",
                code="CAT003",
            )
        if code in items:
            raise CatalogueError(f"Mã {code} bị trùng.", code="CAT004")
        if parent is not None and not code.startswith(parent.code + "."):
            raise CatalogueError(f"Mã {code} không thuộc mã cha {parent.code} (mã mồ côi).", code="CAT005")
        method = node.get("method", parent.method if parent else None)
        if level >= 2 and method not in METHODS:
            raise CatalogueError(
                f"Mã {code}: phương pháp chấm {method!r} không hợp lệ (chỉ nhận self | survey).",
                code="CAT006",
            )
        prov = node.get("provenance") or {}
        status = prov.get("status", parent.provenance if parent else None)
        if status not in PROVENANCE:
            raise CatalogueError(
                f"Mã {code}: nguồn gốc {status!r} không hợp lệ (confirmed | provisional).", code="CAT007"
            )
        source = prov.get("source", parent.source if parent else "")
        child_key = {1: "criteria", 2: "sub_criteria"}.get(level)
        children = node.get(child_key) or [] if child_key else []
        step = node.get("step", default_step)
        item = Item(
            code=code,
            name_vi=str(node.get("name_vi", "")).strip(),
            level=level,
            max_points=_points(node.get("max_points"), code),
            method=method,
            responsible_unit=node.get("responsible_unit", parent.responsible_unit if parent else None),
            provenance=status,
            source=", ".join(source) if isinstance(source, list) else str(source or ""),
            parent=parent.code if parent else None,
            children=tuple(str(child.get("code", "")).strip() for child in children),
            step=Decimal(str(step)) if step is not None else None,
        )
        if not item.name_vi:
            raise CatalogueError(f"Mã {code}: thiếu tên tiếng Việt.", code="CAT003")
        items[code] = item
        for child in children:
            add(child, level + 1, item)
        if children:
            total = sum((items[c].max_points for c in item.children), Decimal(0))
            if total != item.max_points:
                raise CatalogueError(
                    f"Mã {code}: tổng điểm các mục con ({total}) khác điểm tối đa ({item.max_points}).",
                    code="CAT008",
                )
        if level == 2 and not children:
            raise CatalogueError(f"Mã {code}: tiêu chí không có tiêu chí thành phần.", code="CAT009")

    for area in data["areas"]:
        add(area, 1, None)

    totals = {k: Decimal(str(v)) for k, v in (head.get("totals") or {}).items() if k != "provenance"}
    catalogue = Catalogue(
        code=str(head.get("code", "")),
        name_vi=str(head.get("name_vi", "")),
        legal_basis=str(head.get("legal_basis", "")),
        items=items,
        totals=totals,
        note_vi=str(head.get("provenance_note", "")),
        code_map={str(k): str(v) for k, v in (data.get("code_map") or {}).items()},
        default_step=Decimal(str(default_step)) if default_step is not None else None,
    )
    unknown = sorted(v for v in catalogue.code_map.values() if v not in items)
    if unknown:
        raise CatalogueError(
            f"{origin}: 'code_map' dẫn tới mã không có trong danh mục: {', '.join(unknown)}.", code="CAT013"
        )
    _check_totals(catalogue)
    return catalogue


def _check_totals(catalogue: Catalogue) -> None:
    counts = {
        "areas": len(catalogue.level(1)),
        "criteria": len(catalogue.level(2)),
        "sub_criteria": len(catalogue.level(3)),
    }
    names = {"areas": "lĩnh vực", "criteria": "tiêu chí", "sub_criteria": "tiêu chí thành phần"}
    for key, actual in counts.items():
        expected = catalogue.totals.get(key)
        if expected is not None and actual != expected:
            raise CatalogueError(f"Số {names[key]} là {actual}, phải là {expected}.", code="CAT010")
    sums: dict[str, Decimal] = {
        "max_points": sum((a.max_points for a in catalogue.areas), Decimal(0)),
        "survey_points": sum((i.max_points for i in catalogue.leaves if i.method == "survey"), Decimal(0)),
        "self_points": sum((i.max_points for i in catalogue.leaves if i.method == "self"), Decimal(0)),
    }
    labels = {"max_points": "Tổng điểm", "survey_points": "Điểm điều tra XHH", "self_points": "Điểm tự chấm"}
    for key, total in sums.items():
        expected = catalogue.totals.get(key)
        if expected is not None and total != expected:
            raise CatalogueError(f"{labels[key]} là {total}, phải là {expected}.", code="CAT011")


def catalogue_path(name: str) -> Path:
    """The file a catalogue name reads: the coordinator's imported one (:func:`criteria_override_dir`) when
    present, else the bundled one in ``include/criteria/``."""
    imported = criteria_override_dir() / f"{name}.yaml"
    return imported if imported.is_file() else CRITERIA_DIR / f"{name}.yaml"


def load_catalogue(name_or_path: str | Path) -> Catalogue:
    """Load a catalogue by name (the imported file, else the bundled one: :func:`catalogue_path`) or by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = catalogue_path(str(name_or_path))
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except FileNotFoundError as exc:
        raise CatalogueError(f"Không tìm thấy danh mục tiêu chí {path.name}.", code="CAT012") from exc
    return parse_catalogue(data, origin=path.name)
