"""Airflow plugin: the Deadline reference of the deadlines DAGs (``par_index.airflow.deadline_reference``), so that
the API server and the scheduler can read it back from a serialized DAG. Thin: nothing heavy is imported."""

from airflow.plugins_manager import AirflowPlugin
from par_index.airflow.deadline_reference import DirectiveDeadline


class ParDeadlinesPlugin(AirflowPlugin):
    name = "par_deadlines"
    deadline_references = [DirectiveDeadline]
