# taskq image: one binary for every role (`api`, `worker`, ...); compose.yaml picks the role with
# `command:`. Build: `docker build -t taskq .` (or `docker compose build`).

# --- build stage: the toolchain and -dev packages, exactly what scripts/bootstrap installs --------
FROM debian:bookworm-slim AS build
WORKDIR /src
# bootstrap alone first, so the package layer is cached until the package list changes. It runs as
# root here (no sudo), sets DEBIAN_FRONTEND=noninteractive and runs apt-get update itself.
COPY scripts/bootstrap scripts/bootstrap
RUN scripts/bootstrap && rm -rf /var/lib/apt/lists/*
COPY . .
# Same build type as scripts/build release; without tests and benchmarks (no GTest build, no
# redis-server needed). ccache would only fill a cache that is thrown away with the stage.
ENV CCACHE_DISABLE=1
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DTASKQ_BUILD_TESTS=OFF -DTASKQ_BUILD_BENCH=OFF \
 && ninja -C build taskq \
 && strip --strip-debug -o /taskq build/taskq

# --- runtime stage: shared libraries only -------------------------------------------------------
FROM debian:bookworm-slim
# Runtime halves of the -dev packages in /work/shared/DEPENDENCIES.md (libvips42 is the heavy one),
# plus curl for the healthcheck in compose.yaml (it adds little: libcurl4 is here anyway).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libhiredis0.14 libboost-json1.81.0 libboost-url1.81.0 libfmt9 libspdlog1.10 \
      libcurl4 libssl3 libvips42 libxlsxwriter4 \
      ca-certificates tzdata curl \
 && rm -rf /var/lib/apt/lists/*
# A fixed uid/gid so files in the /data volume keep one owner across rebuilds. A new named volume
# mounted on /data starts with the image's ownership of /data, so the user can write to it.
RUN groupadd --system --gid 10001 taskq \
 && useradd --system --uid 10001 --gid taskq --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin taskq \
 && install -d -o taskq -g taskq -m 0750 /data
COPY --from=build /taskq /usr/local/bin/taskq
# Fail the image build, not the first container start, when a shared library is missing here
# (e.g. a new dependency added to scripts/bootstrap but not to the list above).
RUN if ldd /usr/local/bin/taskq | grep 'not found'; then \
      echo 'runtime stage lacks the shared libraries above' >&2; exit 1; fi \
 && /usr/local/bin/taskq --help >/dev/null
USER taskq
WORKDIR /data
# --data-dir (outbox, exports); the volume in compose.yaml is mounted here.
ENV TASKQ_DATA_DIR=/data
# 8000: HTTP API (`taskq api --listen`), 3000: dashboard (`--dashboard-listen`).
EXPOSE 8000 3000
ENTRYPOINT ["/usr/local/bin/taskq"]
CMD ["--help"]
