# The ssebridge image. Built from Debian bookworm's packages only, like the
# rest of the project: the build stage installs a subset of the list in
# scripts/setup-deps.sh, and the runtime stage exactly the packages that own
# the shared libraries the binary links (tests/helm/image_test.py checks both
# against setup-deps.sh and `ldd build/release/ssebridge`).
#
#   docker build -t ssebridge .
#   docker run --rm -p 8080:8080 -p 50051:50051 ssebridge

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      libabsl-dev libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev \
      libgtest-dev libgmock-dev nlohmann-json3-dev libhiredis-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# CMake configures the whole tree (tests and clients register targets), but
# only the bridge is built.
COPY CMakeLists.txt ./
COPY proto proto
COPY bridge bridge
COPY clients clients
COPY tests tests
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build build --target ssebridge -j"$(nproc)" \
 && strip --strip-debug build/ssebridge

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libabsl20220623 libbrotli1 libc-ares2 libc6 libcpp-httplib0.11 libgcc-s1 \
      libgrpc++1.51 libgrpc29 libhiredis0.14 libprotobuf32 libre2-9 libssl3 \
      libstdc++6 zlib1g \
 && rm -rf /var/lib/apt/lists/*
# The chart runs the pod as 65532:65532 (runAsNonRoot); the image says so too,
# for docker run and for clusters that check the image's user.
RUN groupadd --system --gid 65532 ssebridge \
 && useradd --system --uid 65532 --gid 65532 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin ssebridge
COPY --from=build /src/build/ssebridge /usr/local/bin/ssebridge
USER 65532:65532
# HTTP (SSE, POST /v1/publish, /healthz, /readyz, /metrics) and gRPC.
EXPOSE 8080 50051
# No curl in the slim image: bash's /dev/tcp asks /healthz directly.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${SSEBRIDGE_HTTP_PORT:-8080} && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -c 12 <&3 | grep -q ' 200'"]
ENTRYPOINT ["/usr/local/bin/ssebridge"]
