# syntax=docker/dockerfile:1
#
# airlock container image.
#
#   docker build -t airlock .
#   docker run --rm -p 127.0.0.1:8443:8443 -p 127.0.0.1:8444:8444 --read-only --tmpfs /tmp airlock
#
# Runs as uid 10001 with a read-only root filesystem: everything airlock writes (ledger,
# keys, generated TLS certificates) goes to the data volume /var/lib/airlock; the
# configuration is read from /etc/airlock (deploy/docker/airlock.yaml unless one is mounted).
# deploy/README.md describes Docker Compose, the Helm chart and the plain manifests.

ARG NODE_IMAGE=node:20-bookworm-slim

# 1. Build: the same `npm run build` (tsc) that the test suite runs.
FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the package's `prepare` would build before the sources are here, and the
# compiler does not need the SQLite binding.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY test ./test
COPY bench ./bench
RUN npm run build

# 2. Production dependencies only, with the SQLite binding compiled for this Node (the full
#    image has the compilers node-gyp falls back to when no prebuilt binary fits).
FROM node:20-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 \
 && npm cache clean --force

# 3. Runtime: Node, production dependencies, the compiled sources. No compiler, no npm cache.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    AIRLOCK_CONFIG=/etc/airlock/airlock.yaml
WORKDIR /app
RUN groupadd --system --gid 10001 airlock \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/airlock --no-create-home --shell /usr/sbin/nologin airlock \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/airlock \
 && install -d -o root -g root -m 0755 /etc/airlock
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY --from=build /src/dist/src ./dist/src
# The quick start's sandbox (a fake Kubernetes API server, not a cluster) runs when no
# connection is configured; it is the only part of the test tree the image carries.
COPY --from=build /src/dist/test/fixtures ./dist/test/fixtures
COPY deploy/docker/airlock.yaml /etc/airlock/airlock.yaml
RUN find dist -name '*.test.js' -delete -o -name '*.test.js.map' -delete \
 && ln -s /app/bin/airlock.js /usr/local/bin/airlock

USER 10001:10001
VOLUME ["/var/lib/airlock"]
# 8443: the gateway (HTTPS, agents and kubectl). 8444: the admin server (health, metrics, issuer, approvals).
EXPOSE 8443 8444
# Readiness of the admin server, with node itself (the image has no curl). Set
# AIRLOCK_HEALTHCHECK_URL when the admin server listens elsewhere.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.AIRLOCK_HEALTHCHECK_URL || 'http://127.0.0.1:8444/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/airlock.js"]
CMD ["start", "--config", "/etc/airlock/airlock.yaml"]
