# One image for every Airflow component and the MLflow server, built from the project's
# own pyproject.toml and uv.lock.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/retrainer/.venv \
    PATH=/opt/retrainer/.venv/bin:$PATH

RUN pip install --no-cache-dir "uv>=0.9" \
    && useradd --create-home --uid 50000 retrainer
WORKDIR /opt/retrainer
COPY pyproject.toml uv.lock README.md ./
COPY src ./src
RUN uv sync --frozen --no-dev --no-cache --extra production
COPY dags ./dags
COPY plugins ./plugins
COPY config ./config
# AIRFLOW_HOME and the MLflow auth folder exist in the image, owned by the runtime user, so
# the named volumes mounted there start writable for it (Docker copies the ownership).
RUN mkdir -p /opt/airflow/logs /opt/airflow/auth /mlflow-auth \
    && chown -R retrainer /opt/retrainer /opt/airflow /mlflow-auth
USER retrainer
