# The ssebridge image: the Debian package of scripts/package.sh, installed
# with dpkg, so the image holds exactly what `apt-get install ./ssebridge_*.deb`
# installs on a host (one definition of the installed bridge). Built from
# Debian bookworm's packages only, like the rest of the project: the build
# stage installs a subset of scripts/setup-deps.sh, and the runtime stage
# exactly the packages that own the shared libraries the binary links
# (tests/helm/image_test.py checks both against setup-deps.sh and `ldd`); dpkg
# -i then refuses to install if the package's computed Depends disagree.
#
#   docker build -t ssebridge \
#     --build-arg SSEBRIDGE_VERSION="$(cat VERSION)" \
#     --build-arg SSEBRIDGE_GIT_COMMIT="$(git rev-parse --short=12 HEAD)" .
#   docker run --rm -p 8080:8080 -p 50051:50051 ssebridge
#
# Base image pinning: both stages name debian:bookworm-slim by tag (no digest
# was recorded for this repository, and none can be fetched where it is
# built and tested). To pin, resolve the digest where a registry is
# reachable and use it in both FROM lines, e.g.
#   docker buildx imagetools inspect debian:bookworm-slim   # -> Digest: sha256:...
#   FROM debian:bookworm-slim@sha256:<digest> AS build
# (tests/helm/image_test.py then needs the pinned reference too).

FROM debian:bookworm-slim AS build
# The context has no .git (see .dockerignore): the commit comes in as an arg.
ARG SSEBRIDGE_GIT_COMMIT=unknown
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config file python3 \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      libabsl-dev libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev \
      libgtest-dev libgmock-dev nlohmann-json3-dev libhiredis-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# CMake configures the whole tree (tests and clients register targets), but
# only the bridge and its package files are built.
COPY VERSION CMakeLists.txt README.md CHANGELOG.md ./
COPY cmake cmake
COPY packaging packaging
COPY scripts/package.sh scripts/package.sh
COPY proto proto
COPY bridge bridge
COPY clients clients
COPY tests tests
RUN SSEBRIDGE_GIT_COMMIT="${SSEBRIDGE_GIT_COMMIT}" scripts/package.sh build \
 && cp build/packages/ssebridge_*.deb /ssebridge.deb

FROM debian:bookworm-slim AS runtime
# Labels only (the binary reads VERSION when built); keep it VERSION's value.
ARG SSEBRIDGE_VERSION=0.1.0
ARG SSEBRIDGE_GIT_COMMIT=unknown
LABEL org.opencontainers.image.title="ssebridge" \
      org.opencontainers.image.description="gRPC-to-SSE bridge: backends publish, browsers receive Server-Sent Events" \
      org.opencontainers.image.version="${SSEBRIDGE_VERSION}" \
      org.opencontainers.image.revision="${SSEBRIDGE_GIT_COMMIT}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"
# The chart runs the pod as 65532:65532 (runAsNonRoot); the image says so too,
# for docker run and for clusters that check the image's user. Created before
# the package, whose postinst keeps an existing ssebridge user.
RUN groupadd --system --gid 65532 ssebridge \
 && useradd --system --uid 65532 --gid 65532 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin ssebridge
COPY --from=build /ssebridge.deb /tmp/ssebridge.deb
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libabsl20220623 libbrotli1 libc-ares2 libc6 libcpp-httplib0.11 libgcc-s1 \
      libgrpc++1.51 libgrpc29 libhiredis0.14 libprotobuf32 libre2-9 libssl3 \
      libstdc++6 zlib1g \
 && dpkg -i /tmp/ssebridge.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/ssebridge.deb \
 && ln -s /usr/bin/ssebridge /usr/local/bin/ssebridge
USER 65532:65532
# HTTP (SSE, POST /v1/publish, /healthz, /readyz, /metrics) and gRPC.
EXPOSE 8080 50051
# No curl in the slim image: bash's /dev/tcp asks /healthz directly.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${SSEBRIDGE_HTTP_PORT:-8080} && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -c 12 <&3 | grep -q ' 200'"]
ENTRYPOINT ["/usr/local/bin/ssebridge"]
