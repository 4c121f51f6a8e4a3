# syntax=docker/dockerfile:1.7
# The Airflow image of the production stack (docker-compose.yaml, infra/helm/airflow-values.yaml): Airflow 3.3 with
# the pipeline venv (requirements/airflow-image.lock: the pipeline extra plus Celery, the FAB auth manager and the
# Postgres driver), kubectl for the Kubernetes training launcher, the
# boostqa package and its Airflow adapter, the DAGs, and the dbt project with its parsed manifest (cosmos renders
# the dbt task groups from it at parse time), plus boostqa_dev for the `boostqa ops` chores airflow-init runs.
# The vLLM servers and the trainer have their own images.
# Build from the repository root: docker build -f infra/docker/airflow.Dockerfile -t boostqa/airflow:<tag> .
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
FROM ${PYTHON_IMAGE}

ARG UV_VERSION=0.13.9
# The Kubernetes training launcher (boostqa/launch/cluster.py) shells out to kubectl from the worker and triggerer.
ARG KUBECTL_VERSION=v1.34.2
ENV PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:${PATH} \
    AIRFLOW_HOME=/opt/airflow \
    BOOSTQA_STATE_DIR=/opt/boostqa/state \
    BOOSTQA_DBT_PROJECT_DIR=/opt/boostqa/dbt_project \
    BOOSTQA_TRAINER__KUBERNETES_TEMPLATE=/opt/boostqa/infra/k8s/training-job.yaml \
    BOOSTQA_TRAINER__SLURM_TEMPLATE=/opt/boostqa/infra/slurm/train.sbatch \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False \
    DO_NOT_TRACK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends curl tini \
    && rm -rf /var/lib/apt/lists/* \
    && curl -fsSLo /usr/local/bin/kubectl "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/amd64/kubectl" \
    && echo "$(curl -fsSL "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/amd64/kubectl.sha256")  /usr/local/bin/kubectl" \
       | sha256sum --check --strict \
    && chmod +x /usr/local/bin/kubectl \
    && useradd --uid 50000 --gid 0 --create-home --home-dir /opt/airflow airflow

WORKDIR /opt/boostqa
# Dependencies first: this layer only changes with the lock file.
COPY requirements/airflow-image.lock requirements/airflow-image.lock
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir uv==${UV_VERSION} \
    && uv pip install --no-cache -r requirements/airflow-image.lock

COPY pyproject.toml README.md ./
COPY boostqa boostqa
COPY plugins plugins
COPY training training
COPY infra/boostqa_dev infra/boostqa_dev
# Editable, like the checkout; the library finds its package data in boostqa/, everything else through the
# BOOSTQA_* paths above (the mounted dags/ and dbt_project/ of compose are the ones used).
RUN uv pip install --no-cache --no-deps -e .

COPY dags dags
COPY dbt_project dbt_project
# The cluster launchers render these templates (BOOSTQA_TRAINER__KUBERNETES_TEMPLATE, __SLURM_TEMPLATE above).
COPY infra/k8s infra/k8s
COPY infra/slurm infra/slurm
# Same placeholders as the Makefile's manifest rule: parsing needs no database or S3.
RUN cd dbt_project \
    && BOOSTQA_WAREHOUSE_PATH=/dev/null BOOSTQA_DUCKDB_EXTENSION_DIR=/dev/null BOOSTQA_S3_ACCESS_KEY=parse \
       BOOSTQA_S3_SECRET_KEY=parse BOOSTQA_S3_ENDPOINT=http://127.0.0.1 dbt parse --profiles-dir . --quiet \
    && mkdir -p /opt/boostqa/state/warehouse /opt/airflow/plugins /opt/airflow/logs \
    && chown -R airflow:0 /opt/boostqa/state /opt/boostqa/dbt_project /opt/airflow

USER airflow
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["airflow", "version"]
