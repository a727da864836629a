"""The only part of the library that imports Airflow: runtime from connections, sensors, the DAG factory."""
