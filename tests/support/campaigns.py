"""The bundled campaign files the tests load."""

from par_index.paths import CAMPAIGNS_DIR

HA_TINH_2023 = CAMPAIGNS_DIR / "ha_tinh_2023.yaml"
# Each campaign file's DAGs: par_<province>_<year> followed by each of these (dag_factory._campaign_dags)
CAMPAIGN_DAG_SUFFIXES = (
    "",
    "_deadlines",
    "_feedback",
    "_import_catalogue",
    "_rebuild_report",
    "_reminders",
    "_request",
    "_setup",
)
