# syntax=docker/dockerfile:1.7
# finrag image: API (`finrag serve`), worker (`python -m finrag.queue`) and updater (`python -m finrag.updater`).
#   docker build -t finrag:latest .
# The cross-encoder reranker service (`finrag rerank-server`) is the same image built with a CUDA torch:
#   docker build --build-arg TORCH_VARIANT=cu128 -t finrag-reranker:latest .
# (any CUDA wheel tag of download.pytorch.org, e.g. cu126; the CUDA runtime comes inside the wheels,
# the host needs only the NVIDIA driver and container toolkit). The default, cpu, is the API image.
ARG PYTHON_VERSION=3.11

# --- build: dependencies in a venv, the embedding model exported once ---------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN pip install --upgrade pip "setuptools>=68"

# torch pinned, from the PyTorch index of one variant: cpu (default; the default PyPI index serves a
# multi-GB CUDA build) or a CUDA tag for the reranker image.
ARG TORCH_VARIANT=cpu
RUN pip install --index-url "https://download.pytorch.org/whl/${TORCH_VARIANT}" "torch==2.13.0" \
    && python -c "import torch, sys; v = '${TORCH_VARIANT}'; sys.exit(0 if (torch.version.cuda is None) == (v == 'cpu') else f'torch {torch.__version__} is not a {v} build')"

# Dependencies first (cached while only the source changes): a stub package stands in for the code.
WORKDIR /app
COPY pyproject.toml README.md ./
RUN mkdir finrag && touch finrag/__init__.py \
    && pip install ".[torch,serve,llm,server,graph]" \
    && pip uninstall -y finrag \
    && rm -rf finrag

COPY finrag ./finrag
# Editable install at the same path in both stages: package data (static files, alembic.ini, templates)
# is used from the source tree, nothing depends on package-data declarations.
RUN pip install --no-deps --no-build-isolation -e .

# Export + quantise the packaged MiniLM now, so containers start offline and in seconds.
ENV FINRAG_CACHE_DIR=/opt/finrag/cache
RUN python -c "from finrag.settings import Settings; from finrag.embed import build_embedder; build_embedder(Settings()).warm_up()"

# --- runtime: no compilers, non-root ---------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
ARG UID=10001
ARG TORCH_VARIANT=cpu
LABEL org.opencontainers.image.description="finrag (torch ${TORCH_VARIANT})"
RUN groupadd --system --gid ${UID} finrag \
    && useradd --system --uid ${UID} --gid finrag --home-dir /home/finrag --create-home finrag \
    && mkdir -p /data \
    && chown finrag:finrag /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
COPY --from=build --chown=finrag:finrag /opt/finrag/cache /opt/finrag/cache
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    FINRAG_DATA_DIR=/data \
    FINRAG_CACHE_DIR=/opt/finrag/cache \
    FINRAG_LOG_LEVEL=INFO \
    FINRAG_TORCH_VARIANT=${TORCH_VARIANT}
WORKDIR /app
VOLUME ["/data"]
USER finrag
EXPOSE 8000
# /metrics on an internal port, apart from the API (publish 8000 only; let Prometheus reach 9100).
ENV FINRAG_SECURITY_METRICS_PORT=9100 FINRAG_SECURITY_METRICS_HOST=0.0.0.0
# Liveness only (/healthz); readiness of the dependencies is /readyz, for the orchestrator.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]
CMD ["finrag", "serve", "--host", "0.0.0.0", "--port", "8000"]
