# syntax=docker/dockerfile:1
# One image for both processes; the Helm chart picks the entry point:
#   operator:    node operator/dist/main.js
#   boot-server: node boot-server/dist/main.js
#   migrations:  node shared/dist/db/migrate-cli.js
# Build: docker build -t anvil:0.1.0 .   (the tag the chart uses by default is its appVersion)
#
# The runtime image is assembled from scratch out of the node:24-slim build: the node binary, ipmitool, setpriv, the
# shared libraries they link, Debian's iPXE binaries, the compiled app and its production dependencies. No shell, no
# package manager, no setuid binaries; it runs as user 10001 and writes only to its volumes (/tmp, /var/lib/anvil).

ARG NODE_IMAGE=node:24-slim

# --- build: install everything, compile TypeScript to dist/, keep the production dependencies only ------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# npm workspaces: each part is a package (shared = @anvil/core, operator, boot-server, cli, dashboard) with its own package.json;
# npm ci links them into node_modules/@anvil/ and needs their manifests before the sources.
COPY package.json package-lock.json ./
COPY shared/package.json shared/package.json
COPY operator/package.json operator/package.json
COPY boot-server/package.json boot-server/package.json
COPY cli/package.json cli/package.json
COPY dashboard/package.json dashboard/package.json
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY shared/tsconfig.build.json shared/
COPY operator/tsconfig.build.json operator/
COPY boot-server/tsconfig.build.json boot-server/
COPY cli/tsconfig.build.json cli/
COPY dashboard/tsconfig.build.json dashboard/
COPY shared/src shared/src
COPY operator/src operator/src
COPY boot-server/src boot-server/src
COPY cli/src cli/src
COPY dashboard/src dashboard/src
# Never loaded at run time, and half of node_modules: type declarations, source maps, READMEs, packages' own tests,
# and add-ons for the Bare runtime (*.bare; Node loads *.node).
# The embedded history starts from a database built here (pglite-template.tar.gz, ~4 MiB) instead of running initdb at
# its first start, which needs ~1.1 GB (docs/benchmarks.md, "Memory").
# Each package compiles into its own dist/ (tsc -b); the packages' exports resolve to it at run time (no condition).
RUN npm run build \
 && node shared/dist/db/drivers/pglite-template-cli.js shared/dist/pglite-template.tar.gz \
 && find shared/dist operator/dist boot-server/dist cli/dist dashboard/dist \( -name '*.d.ts' -o -name '*.d.ts.map' -o -name '.tsbuildinfo' \) -delete \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/.cache node_modules/@types \
 && find node_modules -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' -o -iname '*.md' -o -name '*.bare' \) -delete \
 && find node_modules -depth -type d \( -name test -o -name tests -o -name __tests__ \) -exec rm -rf {} +

# --- rootfs: the runtime's files, collected into /rootfs -----------------------------------------------------------
FROM ${NODE_IMAGE} AS rootfs
RUN apt-get update \
 && apt-get install -y --no-install-recommends ipxe ipmitool ca-certificates binutils libcap2-bin \
 && rm -rf /var/lib/apt/lists/*
# Shared libraries go to their real directory (usrmerge: /lib -> usr/lib), the base's top-level symlinks are kept.
# The iPXE files are those a PXE ROM asks the boot-server's TFTP root for (BIOS: undionly.kpxe/.kkpxe, ipxe.pxe;
# UEFI: ipxe.efi, snponly.efi). ipmitool reads the IANA enterprise numbers at every start (without them each of its
# error messages begins with a warning). setpriv carries CAP_NET_BIND_SERVICE as a permitted-only file capability:
# the chart starts the boot-server through it only when it binds a port below 1024 (docs/install.md, "Security");
# without that capability in the container's bounding set, or with allowPrivilegeEscalation=false, it grants nothing.
RUN set -eu; R=/rootfs; \
    mkdir -p "$R/usr/local/bin" "$R/usr/bin" "$R/usr/lib/ipxe" "$R/etc/ssl/certs" "$R/tmp" \
      "$R/var/lib/anvil/assets" "$R/var/lib/anvil/spool" "$R/var/lib/anvil/history"; \
    for d in bin lib lib64 sbin; do if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$R/$d"; fi; done; \
    strip --strip-unneeded -o "$R/usr/local/bin/node" /usr/local/bin/node; \
    cp /usr/bin/ipmitool /usr/bin/setpriv "$R/usr/bin/"; \
    for lib in $(ldd /usr/local/bin/node /usr/bin/ipmitool /usr/bin/setpriv \
                 | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $1 !~ /:$/ { print $1 }' | sort -u); do \
      dir="$R$(readlink -f "$(dirname "$lib")")"; mkdir -p "$dir"; cp -L "$lib" "$dir/"; \
    done; \
    for f in undionly.kpxe undionly.kkpxe ipxe.pxe ipxe.efi snponly.efi; do cp -L "/usr/lib/ipxe/$f" "$R/usr/lib/ipxe/"; done; \
    mkdir -p "$R/usr/share/misc"; cp /usr/share/misc/enterprise-numbers.txt "$R/usr/share/misc/"; \
    cp /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/"; \
    cp /etc/nsswitch.conf "$R/etc/"; \
    printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nanvil:x:10001:10001:anvil:/nonexistent:/usr/sbin/nologin\n' > "$R/etc/passwd"; \
    printf 'root:x:0:\nanvil:x:10001:\n' > "$R/etc/group"; \
    chmod 1777 "$R/tmp"; \
    chown -R 10001:10001 "$R/var/lib/anvil"; \
    setcap cap_net_bind_service=p "$R/usr/bin/setpriv"

# --- runtime ----------------------------------------------------------------------------------------------------------
FROM scratch AS runtime
COPY --from=rootfs /rootfs/ /
WORKDIR /app
# package.json carries "type": "module", which dist/ needs. The app's files stay root-owned: read-only to the process.
# node_modules/@anvil/* are symlinks to the package directories (../../shared etc.): their package.json and dist/ only.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/shared/package.json ./shared/package.json
COPY --from=build /app/shared/dist ./shared/dist
COPY --from=build /app/operator/package.json ./operator/package.json
COPY --from=build /app/operator/dist ./operator/dist
COPY --from=build /app/boot-server/package.json ./boot-server/package.json
COPY --from=build /app/boot-server/dist ./boot-server/dist
# The dashboard's server (loaded by the operator) and its browser app, bundled into dashboard/dist/web.
COPY --from=build /app/dashboard/package.json ./dashboard/package.json
COPY --from=build /app/dashboard/dist ./dashboard/dist
# A 16 MiB young generation: Node otherwise sizes it from the machine's memory (up to 128 MiB), not the pod's limit.
ENV PATH=/usr/local/bin:/usr/bin \
    NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=8
USER 10001:10001
# operator metrics/health and boot-server HTTP; TFTP on 6969/udp unprivileged (69 through setpriv, see the chart)
EXPOSE 8080 6969/udp
CMD ["node", "operator/dist/main.js"]

LABEL org.opencontainers.image.title="anvil" \
      org.opencontainers.image.description="Kubernetes operator and boot-server that network-install bare-metal machines" \
      org.opencontainers.image.licenses="Apache-2.0"
