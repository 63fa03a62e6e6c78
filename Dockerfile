# Same Node major as the project pins (package.json devDependency "node": 24.x).
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The image vector the controller resolves shoot images from (src/config/component-config.ts loadImageVector).
COPY charts/images.yaml ./charts/images.yaml
USER 65532:65532
# glibc gives each thread that allocates an arena of its own and keeps what a thread freed in it: V8's compiler and
# GC threads allocate beside the main thread, and at 100 shoots the process held about 10 MiB more outside V8's heap
# with the default arenas than with one (side by side at 100 with 4 MiB semi-spaces: 124 MiB and 6.7 s of CPU with
# the default arenas, 113 MiB and 5.7 s with one; the Go extension 120-123 MiB, 10-11 s).
ENV MALLOC_ARENA_MAX=1
# The heap limits are sized for the chart's memory limit (512Mi): V8 sizes its heap from the host's memory (GBs),
# not the container's. The young generation is what grows with load: every watch event, list page and ONTAP
# answer is short-lived garbage, and with V8's default semi-space (up to 16 MiB each, young space up to about
# 50 MiB in use) a 300-shoot create wave kept 180-190 MiB of heap committed for a live set of 30-45 MiB.
# 4 MiB semi-spaces (8 MiB of young generation committed) cost more scavenges than 8 MiB ones; with the
# transports on node:https the controller's CPU for 100 creates is about half the Go extension's either way
# (docs/performance.md). 192 MiB of old space leaves room for the live set to grow. Must be given at process
# start (v8.setFlagsFromString later has no effect); bench/harness.ts starts the controller with these same
# flags and the ENV lines above, read from this file (src/testenv/image-flags.ts).
ENTRYPOINT ["node", "--max-old-space-size=192", "--max-semi-space-size=4", "/app/dist/cli.js"]
CMD ["run", "--config", "/etc/gardener-extension-ontap/config/config.yaml"]
