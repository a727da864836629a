"""The coordinators' campaign dashboard (issue 7): a JSON-able overview of a campaign (:mod:`.data`) and its HTML
page (:mod:`.html`). Plain Python; ``par_index.airflow.dashboard_app`` serves both inside the Airflow UI."""
