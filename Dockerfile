# Production image: the official Airflow image plus this project's locked runtime dependencies and library.
FROM apache/airflow:3.3.2-python3.11
# requirements.lock: the runtime lock only (no test, lint or type tools: those are in requirements-dev.lock).
COPY --chown=airflow:root requirements.lock /opt/par/requirements.lock
RUN pip install --no-cache-dir --require-hashes -r /opt/par/requirements.lock
COPY --chown=airflow:root pyproject.toml setup.py MANIFEST.in README.md /opt/par/
COPY --chown=airflow:root include /opt/par/include
RUN pip install --no-cache-dir --no-deps /opt/par
