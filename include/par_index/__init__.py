"""PAR Index campaign orchestrator: plain-Python library used by the Airflow DAGs, the tools and the tests."""

__version__ = "0.1.0"
