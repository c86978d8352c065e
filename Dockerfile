# openrouter-switchboard as a container: the `http` service for a team, or `stdio` with `docker run -i`.
#
#   docker build -t openrouter-switchboard .
#   docker run -p 8787:8787 -e OPENROUTER_API_KEY -e SWITCHBOARD_HTTP_TOKEN openrouter-switchboard
#
# The image listens on 0.0.0.0:8787, so it refuses to start without SWITCHBOARD_HTTP_TOKEN (16+
# characters). It runs as an unprivileged user and keeps its data (cache, ledger) in /data.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --bin openrouter-switchboard && mkdir -p /data

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/openrouter-switchboard /usr/local/bin/openrouter-switchboard
COPY --from=build --chown=nonroot:nonroot /data /data
ENV SWITCHBOARD_DATA_DIR=/data \
    SWITCHBOARD_BIND=0.0.0.0:8787 \
    SWITCHBOARD_ALLOWED_HOSTS=*
# The Host check is for browsers on loopback; behind a proxy, set SWITCHBOARD_ALLOWED_HOSTS to the
# names clients use instead of *.
VOLUME /data
EXPOSE 8787
USER nonroot
ENTRYPOINT ["/usr/local/bin/openrouter-switchboard"]
CMD ["http"]
