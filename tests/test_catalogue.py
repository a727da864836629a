from copy import deepcopy
from decimal import Decimal

import pytest
import yaml
from par_index.catalogue import load_catalogue, parse_catalogue
from par_index.errors import CatalogueError
from par_index.paths import CRITERIA_DIR

RAW = yaml.safe_load((CRITERIA_DIR / "par_province_2022.yaml").read_text(encoding="utf-8"))


def test_catalogue_obeys_every_confirmed_figure():
    cat = load_catalogue("par_province_2022")
    assert len(cat.level(1)) == 8
    assert len(cat.level(2)) == 37
    assert len(cat.level(3)) == 88
    assert sum(a.max_points for a in cat.areas) == Decimal(100)
    assert sum(i.max_points for i in cat.leaves if i.method == "survey") == Decimal(32)
    assert sum(i.max_points for i in cat.leaves if i.method == "self") == Decimal(68)


def test_unpublished_entries_are_marked_provisional_with_a_source():
    cat = load_catalogue("par_province_2022")
    criteria = cat.level(2)
    assert all(c.provisional for c in criteria), "criteria of Table 2 are not public: must be provisional"
    assert all(c.source for c in cat.items.values())
    assert cat.has_provisional
    assert {a.code for a in cat.areas if a.provisional} == {"7", "8"}  # area names 7-8 are inferred


def test_every_self_scored_leaf_has_a_responsible_unit_and_a_step():
    cat = load_catalogue("par_province_2022")
    for leaf in cat.self_scored_leaves:
        assert leaf.responsible_unit, leaf.code
        assert (leaf.max_points / leaf.step) % 1 == 0, leaf.code


def _criterion(data, code):
    for area in data["areas"]:
        for crit in area["criteria"]:
            if crit["code"] == code:
                return area, crit
    raise KeyError(code)


def _refused(data) -> str:
    with pytest.raises(CatalogueError) as info:
        parse_catalogue(data)
    return str(info.value)


def test_refuses_duplicate_code():
    data = deepcopy(RAW)
    _, crit = _criterion(data, "2.p1")
    crit["sub_criteria"][1]["code"] = "2.p1.1"
    assert "2.p1.1" in _refused(data) and "trùng" in _refused(data)


def test_refuses_orphan_code():
    data = deepcopy(RAW)
    _, crit = _criterion(data, "3.p2")
    crit["sub_criteria"][0]["code"] = "4.p9.1"
    message = _refused(data)
    assert "4.p9.1" in message and "mồ côi" in message


def test_refuses_children_not_summing_to_parent():
    data = deepcopy(RAW)
    _, crit = _criterion(data, "5.p3")
    crit["sub_criteria"][0]["max_points"] = 0.75
    message = _refused(data)
    assert "5.p3" in message and "tổng điểm" in message


def test_refuses_wrong_totals():
    data = deepcopy(RAW)
    area, crit = _criterion(data, "1.p1")
    crit["max_points"] += 0.5
    crit["sub_criteria"][0]["max_points"] += 0.5
    area["max_points"] += 0.5
    assert "Tổng điểm là 100.5" in _refused(data)


def test_refuses_unknown_method():
    data = deepcopy(RAW)
    _, crit = _criterion(data, "6.p2")
    crit["method"] = "appraisal"
    message = _refused(data)
    assert "6.p2" in message and "appraisal" in message


def test_refuses_wrong_count_of_sub_criteria():
    data = deepcopy(RAW)
    _, crit = _criterion(data, "7.p1")
    removed = crit["sub_criteria"].pop()
    crit["sub_criteria"][0]["max_points"] += removed["max_points"]
    assert "tiêu chí thành phần là 87, phải là 88" in _refused(data)
