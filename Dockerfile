# syntax=docker/dockerfile:1
# One image for both processes; the Helm chart picks the entry point:
#   operator:    node dist/operator/src/main.js
#   boot-server: node dist/boot-server/src/main.js
#   migrations:  node dist/shared/src/db/migrate.js
# Build: docker build -t anvil:0.1.0 .   (the tag the chart uses by default is its appVersion)

ARG NODE_IMAGE=node:24-slim

# --- build: install everything, compile TypeScript to dist/, then drop the dev dependencies -------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY shared/src shared/src
COPY operator/src operator/src
COPY boot-server/src boot-server/src
COPY cli/src cli/src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/.cache

# --- runtime: Node 24, Debian's iPXE binaries for the TFTP root, no compilers, no npm cache, non-root --------------
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ipxe ipmitool ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 anvil \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin anvil \
 && mkdir -p /var/lib/anvil/assets /var/lib/anvil/spool /var/lib/anvil/history \
 && chown -R 10001:10001 /var/lib/anvil
WORKDIR /app
ENV NODE_ENV=production
# package.json carries "type": "module", which dist/ needs.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER 10001:10001
# operator metrics/health and boot-server HTTP; TFTP on 6969/udp unprivileged (69 needs NET_BIND_SERVICE, see the chart)
EXPOSE 8080 6969/udp
CMD ["node", "dist/operator/src/main.js"]

LABEL org.opencontainers.image.title="anvil" \
      org.opencontainers.image.description="Kubernetes operator and boot-server that network-install bare-metal machines" \
      org.opencontainers.image.licenses="Apache-2.0"
