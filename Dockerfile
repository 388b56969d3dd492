# syntax=docker/dockerfile:1
#
# The CME broker: the hub's router and HTTPS gateway (`cme-broker serve`) and its command line
# (`cme-broker topology export | declare`, `agency ...`). See deploy/README.md.
#
#   docker build -t cme-broker .
#
# Two stages: `build` makes a virtualenv from wheels only, the final stage copies that
# virtualenv onto a clean slim base. No compiler, no source tree, no secret: keys, TLS material
# and the pseudonym key are mounted or injected at run time (.dockerignore keeps them out of
# the build context too).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# -- build ---------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY schemas/ schemas/
COPY broker/ broker/
COPY adapters/ adapters/

# Our own wheel first (pure Python), then everything from binary wheels only: a dependency that
# would need a compiler fails the build here rather than pulling build tools into the image.
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/cme \
 && /opt/cme/bin/pip install --only-binary=:all: /wheels/*.whl

# -- runtime -------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}

LABEL org.opencontainers.image.title="cme-broker" \
      org.opencontainers.image.description="Secure inter-agency message broker for children missing education: router and HTTPS gateway"

# A fixed, non-root uid/gid (10001): Kubernetes can check runAsNonRoot against a number, and
# volumes can be prepared for it. The keystore is private; the definitions directory is
# readable by RabbitMQ, which loads the exported definitions from the same volume (compose).
RUN groupadd --system --gid 10001 cme \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/cme --no-create-home \
      --shell /usr/sbin/nologin cme \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/cme /var/lib/cme/data \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/cme/keystore \
 && install -d -o 10001 -g 10001 -m 0755 /var/lib/cme/definitions

COPY --from=build /opt/cme /opt/cme
# The data sharing agreements shipped with the source; mount the LA's own over this directory.
COPY deploy/agreements/ /etc/cme/agreements/

# Production by default: the settings refuse placeholder secrets unless told otherwise.
ENV PATH=/opt/cme/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    CME_ENVIRONMENT=production \
    CME_DATA_DIR=/var/lib/cme/data \
    CME_KEYSTORE_DIR=/var/lib/cme/keystore \
    CME_AGREEMENTS_DIR=/etc/cme/agreements

USER 10001:10001
WORKDIR /var/lib/cme
EXPOSE 8080

# For Docker and Compose; Kubernetes uses its own probes on /healthz and /readyz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]

ENTRYPOINT ["cme-broker"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
