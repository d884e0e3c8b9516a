# The imap-connector server image: Debian 12, the server binary and the shared
# libraries it links, running as uid/gid 10001 on a read-only root file system.
#
#   docker build --network host --build-arg BASE_IMAGE=imapc-base:bookworm -t imap-connector .
#   docker run --read-only --tmpfs /tmp -v imapc-data:/data -p 50051:50051 imap-connector
#
# BASE_IMAGE is a plain Debian 12 (bookworm) image whose apt sources can be
# reached during the build (see docs/docker.md; scripts/docker-check makes
# one with mmdebstrap from this machine's apt sources). No host name of a
# mirror or registry is written here: apt uses the base image's sources.
# Checked with Docker 20.10's classic builder; uses no BuildKit-only syntax.
ARG BASE_IMAGE=imapc-base:bookworm

# ---------------------------------------------------------------- build
FROM ${BASE_IMAGE} AS build
# Parallel compile jobs.
ARG BUILD_JOBS=2
ENV DEBIAN_FRONTEND=noninteractive
# libgtest-dev and libgmock-dev only because CMakeLists.txt finds GTest
# unconditionally; no test is built here.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      cmake ninja-build g++ pkg-config \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      libabsl-dev libssl-dev libgsasl-dev zlib1g-dev grpc-proto \
      libgtest-dev libgmock-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# Only what CMakeLists.txt reads: it declares the unit-test, tool and bench
# targets too, so their sources must exist although only imap-connector is
# built; of tests/ only the fixtures (the end-to-end suites are off). A new
# directory that CMakeLists.txt reads needs a line here. scripts/docker-check
# hashes exactly these paths to decide whether a cached image is current:
# keep them on COPY lines of this form.
COPY CMakeLists.txt ./
COPY proto/ proto/
COPY imap/ imap/
COPY server/ server/
COPY tools/ tools/
COPY bench/ bench/
COPY tests/fixtures/ tests/fixtures/

# Build, strip, and list the Debian packages that own the shared libraries
# the binary loads (ldd + dpkg -S), so the runtime stage installs exactly
# those. Bookworm's dpkg database still names /lib paths while ldd may
# answer /usr/lib ones (merged /usr), so both spellings are tried.
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DIMAPC_E2E=OFF \
 && cmake --build /build --target imap-connector -j "${BUILD_JOBS}" \
 && install -D -s -m 0755 /build/imap-connector /out/usr/local/bin/imap-connector \
 && if ldd /out/usr/local/bin/imap-connector | grep -F 'not found'; then \
      echo "imap-connector: unresolved shared libraries" >&2; exit 1; fi \
 && for lib in $(ldd /out/usr/local/bin/imap-connector | awk '$2 == "=>" && $3 ~ /^\// {print $3}'); do \
      real=$(readlink -f "$lib"); \
      pkg=$( (dpkg -S "$lib" "$real" "${lib#/usr}" "${real#/usr}" 2>/dev/null || true) \
             | head -n 1 | cut -d: -f1); \
      if [ -z "$pkg" ]; then echo "no Debian package owns $lib" >&2; exit 1; fi; \
      echo "$pkg"; \
    done | sort -u > /out/runtime-packages \
 && echo "runtime packages:" $(cat /out/runtime-packages)

# ---------------------------------------------------------------- runtime
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
# Identical package lists hit the layer cache, so a source change rebuilds
# only the last COPY below.
COPY --from=build /out/runtime-packages /usr/local/share/imap-connector/runtime-packages
# ca-certificates: the system trust store for IMAP servers' TLS certificates.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
      $(cat /usr/local/share/imap-connector/runtime-packages) \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log \
 && groupadd --gid 10001 imapc \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin imapc \
 && install -d -o 10001 -g 10001 -m 0700 /data

COPY --from=build /out/usr/local/bin/imap-connector /usr/local/bin/imap-connector

# The server writes only to --data_dir; the root file system may be
# read-only. A new named or anonymous volume on /data starts owned by 10001.
USER 10001:10001
VOLUME /data
WORKDIR /data
# 50051: gRPC (Connector, grpc.health.v1, reflection) on --listen; 50052:
# plaintext grpc.health.v1 for probes with --health_listen; 9090: Prometheus
# /metrics with --metrics_listen. The default CMD opens only 50051.
EXPOSE 50051 50052 9090
# SIGTERM: the server stops taking calls, reports NOT_SERVING and waits up to
# --shutdown_grace (30 s) for open streams; give docker stop / Kubernetes
# at least that long.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/imap-connector"]
CMD ["--listen=0.0.0.0:50051", "--data_dir=/data"]
