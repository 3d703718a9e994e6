# One self-contained `keel` binary in a small Debian image.
#   docker build -t keel .
#   docker run -p 8080:8080 -v "$PWD:/models" keel serve /models/model.keel --host 0.0.0.0
ARG SWIFT_IMAGE=swift:6.3-bookworm
FROM ${SWIFT_IMAGE} AS build
RUN apt-get update && apt-get install -y --no-install-recommends zlib1g-dev libsqlite3-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product keel \
    && cp "$(swift build -c release --show-bin-path)/keel" /keel && strip /keel

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends zlib1g libsqlite3-0 libstdc++6 ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 keel
COPY --from=build /keel /usr/local/bin/keel
USER keel
WORKDIR /home/keel
EXPOSE 8080
HEALTHCHECK CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ok <&3"]
ENTRYPOINT ["keel"]
CMD ["--help"]
