"""The directive's rules on a unit's nominees (Appendix IV), in one place: the nominee phase judges a unit by them
(``phases.judge_nominees``) and intake reports each breach on the Appendix IV file as a warning at its cell
(``intake.forms``), so the unit hears of it as soon as its file is read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from par_index.campaign import Campaign


@dataclass(frozen=True)
class Breach:
    """One rule a unit's list of nominees breaks: the phase's words for it, the area concerned (None: the rule of
    exactly one person), and the rows of the people beyond the limit (empty: too few, nobody's row is at fault)."""

    rule: str
    area: str | None
    rows: tuple[int, ...]


def breaches(campaign: Campaign, unit_code: str, people: Sequence[tuple[int, Sequence[str]]]) -> list[Breach]:
    """The rules broken by ``people`` ((row, areas) of each nominee, in the file's order) of ``unit_code``: exactly
    one person for a unit of ``nominee_rules.exactly_one``, else between ``per_area_min`` and ``per_area_max``
    people for each area the unit owns."""
    rules = campaign.nominee_rules
    if unit_code in rules.exactly_one:
        if len(people) == 1:
            return []
        return [
            Breach(f"cử {len(people)} người, quy định đúng 01 người", None, tuple(r for r, _ in people[1:]))
        ]
    rows: dict[str, list[int]] = defaultdict(list)
    for row, areas in people:
        for area in areas:
            rows[area].append(row)
    found = []
    for area in campaign.area_owners.get(unit_code, []):
        count = len(rows.get(area, []))
        if not rules.per_area_min <= count <= rules.per_area_max:
            found.append(
                Breach(
                    f"lĩnh vực {area}: {count} người (quy định {rules.per_area_min:02d}–{rules.per_area_max:02d})",
                    area,
                    tuple(rows.get(area, [])[rules.per_area_max :]),
                )
            )
    return found
