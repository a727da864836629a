"""One invalid campaign file costs only its own DAGs: Airflow's DagBag records the loader's message as the DAG
file's import error and keeps every other campaign's DAGs and ``par_reconcile``."""

import shutil
from pathlib import Path

import pytest
from par_index.paths import CAMPAIGNS_DIR

ROOT = Path(__file__).resolve().parents[2]
GOOD = CAMPAIGNS_DIR / "ha_tinh_2023.yaml"
GOOD_DAGS = {
    "par_ha_tinh_2023",
    "par_ha_tinh_2023_deadlines",
    "par_ha_tinh_2023_feedback",
    "par_ha_tinh_2023_rebuild_report",
    "par_ha_tinh_2023_import_catalogue",
    "par_ha_tinh_2023_reminders",
    "par_ha_tinh_2023_request",
    "par_ha_tinh_2023_setup",
    "par_reconcile",
}
PLANTED = ('"2": STP', '"9.9": STP')  # area 9.9 is not in the catalogue par_province_2022
BROKEN_MESSAGE = (
    "Tệp chiến dịch ha_tinh_2024.yaml: trường 'assignments', mã '9.9' không có trong danh mục "
    "par_province_2022."
)


def _broken(folder: Path) -> Path:
    """A second campaign (2024) whose Appendix I assigns an area the catalogue does not have."""
    text = GOOD.read_text(encoding="utf-8").replace("id: ha_tinh_2023", "id: ha_tinh_2024")
    assert text.count(PLANTED[0]) == 1
    path = folder / "ha_tinh_2024.yaml"
    path.write_text(text.replace(*PLANTED), encoding="utf-8")
    return path


def _expected_error(*paths: Path) -> str:
    return "\n".join(
        [
            f"Không nạp được {len(paths)} tệp chiến dịch; các chiến dịch khác vẫn chạy bình thường. Sửa "
            "tệp rồi lưu lại, Airflow đọc lại sau vài chục giây."
        ]
        + [f"{path}: [CMP004] {BROKEN_MESSAGE}" for path in paths]
    )


def _dag_files(folder: Path, campaigns: Path) -> tuple[Path, Path]:
    """The project's two DAG files, reading ``campaigns`` instead of the bundled campaign files."""
    made = []
    for name in ("par_campaigns.py", "par_campaign_files.py"):
        text = (ROOT / "dags" / name).read_text(encoding="utf-8")
        call = "build_campaign_dags()" if "build_campaign_dags()" in text else "check_campaign_files()"
        assert text.count(call) == 1
        (folder / name).write_text(
            text.replace(call, call.replace("()", f"(Path({str(campaigns)!r}))")).replace(
                "from par_index", "from pathlib import Path\n\nfrom par_index", 1
            ),
            encoding="utf-8",
        )
        made.append(folder / name)
    return made[0], made[1]


def test_a_broken_campaign_file_beside_a_good_one_is_an_import_error_of_its_own(tmp_path, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("AIRFLOW__CORE__DAGBAG_IMPORT_ERROR_TRACEBACKS", "False")  # the message alone
    campaigns, dags = tmp_path / "campaigns", tmp_path / "dags"
    campaigns.mkdir()
    dags.mkdir()
    shutil.copy(GOOD, campaigns / GOOD.name)
    broken = _broken(campaigns)
    _, checker = _dag_files(dags, campaigns)

    bag = DagBag(dag_folder=str(dags))

    assert set(bag.dag_ids) == GOOD_DAGS
    assert bag.import_errors == {str(checker): _expected_error(broken)}
    assert bag.dags["par_reconcile"].params.get_param("campaign").schema["enum"] == ["ha_tinh_2023"]
    assert {bag.dags[d].fileloc for d in GOOD_DAGS} == {str(dags / "par_campaigns.py")}  # not stale: no error


def test_the_project_s_dag_files_keep_the_bundled_campaign_when_an_extra_one_is_broken(tmp_path, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    broken = _broken(tmp_path)
    monkeypatch.setenv("PAR_EXTRA_CAMPAIGNS_DIR", str(tmp_path))

    bag = DagBag(dag_folder=str(ROOT / "dags"))

    assert set(bag.dag_ids) == GOOD_DAGS
    [(path, error)] = bag.import_errors.items()
    assert path == str(ROOT / "dags" / "par_campaign_files.py")
    assert error.startswith("Traceback (most recent call last):\n")  # Airflow's default: with the traceback
    assert error.endswith(f"par_index.airflow.dag_factory.InvalidCampaignFiles: {_expected_error(broken)}\n")


def test_the_factory_leaves_out_each_broken_file_and_the_check_names_each(tmp_path):
    from par_index.airflow.dag_factory import InvalidCampaignFiles, build_campaign_dags, check_campaign_files
    from par_index.campaign import load_campaign
    from par_index.errors import CampaignError

    shutil.copy(GOOD, tmp_path / GOOD.name)
    broken = _broken(tmp_path)
    (tmp_path / "ha_tinh_2025.yaml").write_text("campaign: [", encoding="utf-8")

    assert {d.dag_id for d in build_campaign_dags(tmp_path)} == GOOD_DAGS
    with pytest.raises(InvalidCampaignFiles) as raised:
        check_campaign_files(tmp_path)
    first, second, third = str(raised.value).split("\n", 2)
    assert first == (
        "Không nạp được 2 tệp chiến dịch; các chiến dịch khác vẫn chạy bình thường. Sửa tệp rồi lưu "
        "lại, Airflow đọc lại sau vài chục giây."
    )
    assert second == f"{broken}: [CMP004] {BROKEN_MESSAGE}"
    with pytest.raises(CampaignError) as loader:
        load_campaign(tmp_path / "ha_tinh_2025.yaml")
    assert loader.value.code == "CMP002"
    assert (
        third == f"{tmp_path / 'ha_tinh_2025.yaml'}: {loader.value}"
    )  # the loader's own message, as it says it
    broken.unlink()
    (tmp_path / "ha_tinh_2025.yaml").unlink()
    assert check_campaign_files(tmp_path) is None  # every file valid: no import error
