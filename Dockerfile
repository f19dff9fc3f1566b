# syntax=docker/dockerfile:1
# Greenroom's image: one static-ish binary, the site assets beside it, nothing else.
#   docker build -t greenroom .
#   docker run --read-only --tmpfs /tmp -p 7007:7007 -v greenroom-data:/data greenroom
# The runtime image has no shell and no package manager, runs as a non-root user and needs no
# writable path but /data (the SQLite database, when used) and /tmp.

# --- build: the wasm bundle, the site and the release binary -----------------------------------
FROM rust:1-bookworm AS build
# A normal rustup toolchain (unlike the CI machines, see README "Toolchain") can add the wasm
# target; node/npm give wasm-opt (binaryen 132) and the brotli step of scripts/build.sh.
RUN rustup target add wasm32-unknown-unknown \
 && apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock; wasm-split-cli cuts the bundle
# into per-page modules (scripts/build.sh).
RUN version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock) \
 && cargo install --locked wasm-bindgen-cli --version "$version" \
 && cargo install --locked wasm_split_cli_support --version 0.2.4 --features build-binary
COPY end2end/package.json end2end/package-lock.json end2end/
RUN cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
COPY . .
RUN scripts/build.sh --release \
 && mkdir -p /out/data \
 && cp target/release/greenroom /out/greenroom \
 && cp -r target/site /out/site \
 && mkdir -p /out/config \
 && cp -r catalog /out/config/catalog \
 && cp app-config.yaml /out/config/app-config.yaml \
 && printf '%s\n' '# Layered over the example in this image: listen on every interface, keep the database in /data.' \
      'backend:' '  listen:' '    host: 0.0.0.0' '  database:' '    client: better-sqlite3' \
      '    connection:' '      directory: /data' > /out/config/app-config.docker.yaml

# --- runtime ---------------------------------------------------------------------------------------
# distroless/cc: glibc, libgcc, CA certificates and a "nonroot" user (65532), nothing else.
FROM gcr.io/distroless/cc-debian12:nonroot
WORKDIR /app
COPY --from=build /out/greenroom /app/greenroom
COPY --from=build /out/site /app/site
# The bundled example (app-config.yaml and its catalog), so `docker run -p 7007:7007 greenroom`
# shows something; mount your own config over /app/config (deploy/kubernetes does).
COPY --from=build /out/config /app/config
COPY --from=build --chown=65532:65532 /out/data /data
ENV GREENROOM_SITE_ROOT=/app/site
USER 65532:65532
EXPOSE 7007
VOLUME ["/data"]
ENTRYPOINT ["/app/greenroom"]
CMD ["serve", "--config", "/app/config/app-config.yaml", "--config", "/app/config/app-config.docker.yaml"]
