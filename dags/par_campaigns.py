"""One dated campaign DAG per file in include/campaigns/ (``par_<province>_<year>``).

Adding a campaign file adds a DAG; no code changes. The DAGs are built by ``par_index.airflow.dag_factory``.
"""

from par_index.airflow.dag_factory import build_campaign_dags

for _dag in build_campaign_dags():
    globals()[_dag.dag_id] = _dag
