# syntax=docker/dockerfile:1
# Image of the Runwatch app (`node server.mjs`: Next's production server plus the direct run stream), run by deploy/k8s/app.yaml. Build from the repo root:
#   docker build -f deploy/app.Dockerfile -t <registry>/runwatch-app:<tag> .
# Configuration comes from the environment (README "Configuration"); REDIS_URL is required.
# Not built on the machine this was written on (no Docker there).

FROM node:20-slim AS build
WORKDIR /src
ENV NEXT_TELEMETRY_DISABLED=1
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# What `npm run build` reads (next build, then the agent bundle dist/agent/cli.mjs).
COPY tsconfig.json next.config.ts postcss.config.mjs instrumentation.ts instrumentation-node.ts ./
COPY app ./app
COPY components ./components
COPY hooks ./hooks
COPY lib ./lib
COPY agent ./agent
RUN npm run build

FROM node:20-slim
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 PORT=3000
WORKDIR /app
# The whole dependency tree, as `npm start` runs it: Next loads next.config.ts, which
# needs the TypeScript toolchain; pruning dev dependencies was not verified here.
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/package.json /src/next.config.ts /src/tsconfig.json /src/server.mjs ./
# dist/agent: the runner the local orchestrator starts (RUNWATCH_ORCHESTRATOR=local).
COPY --from=build /src/dist ./dist
# .next/cache must be writable by the app's user.
COPY --from=build --chown=1000:1000 /src/.next ./.next
# The default presets file and the example command agent its `echo` presets run.
COPY runwatch.presets.jsonc ./
COPY examples ./examples
# RUNWATCH_DATA_DIR's default (./.data): agent log files of local runs.
RUN mkdir -p .data && chown 1000:1000 .data
# Numeric, so the kubelet can check runAsNonRoot (1000 is the image's `node` user).
USER 1000:1000
EXPOSE 3000
# server.mjs (Runwatch's server: Next's handler plus the direct run stream) reads PORT; 0.0.0.0
# so the pod is reachable.
# HOST tells the app it is reachable from outside: it then insists on RUNWATCH_AUTH=token (or an explicit none).
ENV HOST=0.0.0.0
# With the Node flags of scripts/lib/server-node.mjs (a larger young generation: README "Benchmark").
CMD ["node", "--max-semi-space-size=32", "server.mjs", "-H", "0.0.0.0"]
