"""Airflow plugin: the coordinators' campaign dashboard, "Chiến dịch CCHC", as an entry of the UI's navigation and
as a tab of each DAG (campaign DAGs show their campaign). Thin: the app is ``par_index.airflow.dashboard_app``, the
content ``par_index.dashboard``; nothing heavy is imported until the first request."""

from airflow.plugins_manager import AirflowPlugin
from par_index.airflow.dashboard_app import URL_PREFIX, app

NAME_VI = "Chiến dịch CCHC"
HREF = URL_PREFIX.lstrip("/")  # relative to Airflow's base URL (the UI resolves it against its <base href>)


class ParDashboardPlugin(AirflowPlugin):
    name = "par_dashboard"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": NAME_VI}]
    external_views = [
        {
            "name": NAME_VI,
            "href": f"{HREF}/",
            "url_route": "par-campaigns",
            "destination": "nav",
            "icon": f"{HREF}/icon.svg",
            "nav_top_level": True,
        },
        {
            "name": NAME_VI,
            "href": f"{HREF}/dags/{{DAG_ID}}",
            "url_route": "par-campaign-tab",
            "destination": "dag",
        },
    ]
