# syntax=docker/dockerfile:1.7
# The trainer image: CUDA torch, DeepSpeed and training/ (the Kubernetes Job in infra/k8s/training-job.yaml and the
# Slurm script run it; docker-compose.yaml's `trainer` service runs it on one host). The CUDA *devel* base is on
# purpose: DeepSpeed JIT-compiles its fused ops with nvcc on first use. Versions follow requirements/train.lock,
# except torch, which comes as the CUDA 12.8 build instead of the CPU one the lock records.
# Build from the repository root: docker build -f infra/docker/trainer.Dockerfile -t boostqa/trainer:<tag> .
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-devel-ubuntu22.04
FROM ${CUDA_IMAGE}

ARG UV_VERSION=0.13.9
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX=https://download.pytorch.org/whl/cu128
ENV PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:${PATH} \
    TORCH_EXTENSIONS_DIR=/opt/torch_extensions \
    HF_HUB_OFFLINE=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-pip curl ca-certificates libaio-dev \
    && rm -rf /var/lib/apt/lists/* \
    && pip3 install --no-cache-dir uv==${UV_VERSION} \
    && uv python install 3.11 \
    && uv venv /opt/venv --python 3.11

WORKDIR /opt/boostqa
COPY requirements/train.lock requirements/train.lock
RUN uv pip install --no-cache torch==${TORCH_VERSION} --index-url ${TORCH_INDEX} \
    && grep -v '^torch==' requirements/train.lock > /tmp/train-gpu.lock \
    && DS_BUILD_OPS=0 uv pip install --no-cache --no-deps -r /tmp/train-gpu.lock \
    && uv pip install --no-cache "awscli>=1.33"  # the Job's mixture sync; honours AWS_ENDPOINT_URL (MinIO, SeaweedFS)

COPY training training
RUN mkdir -p /work /opt/torch_extensions
ENV PYTHONPATH=/opt/boostqa
CMD ["python", "-m", "training.train", "--help"]
