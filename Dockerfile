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
USER 65532:65532
# The heap limit is sized for the chart's memory limit (512Mi): V8 sizes its old space from the host's memory
# (GBs), not the container's, and a busy controller's heap grows to several times its live set (50-80 MiB)
# before it collects, so without a limit RSS drifts toward the container limit and an OOM kill. 192 MiB of old
# space plus young space, code and native buffers (about 100 MiB) stays well inside 512Mi and keeps a 1,000-shoot
# seed near 256 MiB RSS. Must be given at process start (v8.setFlagsFromString later has no effect);
# bench/harness.ts starts the controller with these same flags, read from this line.
ENTRYPOINT ["node", "--max-old-space-size=192", "/app/dist/cli.js"]
CMD ["run", "--config", "/etc/gardener-extension-ontap/config/config.yaml"]
