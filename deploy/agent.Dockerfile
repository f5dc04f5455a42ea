# syntax=docker/dockerfile:1
# Image of the Runwatch agent runtime (dist/agent/cli.mjs), run by the Kubernetes Jobs that
# RUNWATCH_ORCHESTRATOR=kubernetes creates (lib/kube/orchestrator.ts). Build from the repo root:
#   docker build -f deploy/agent.Dockerfile -t <registry>/runwatch-agent:<tag> .
# The Jobs pass everything else (REDIS_URL, RUNWATCH_*) in the environment.

FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts: the build only needs esbuild, which runs without its postinstall.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY agent ./agent
COPY lib ./lib
RUN npm run build:agent

# build:agent leaves npm packages out of the bundle (--packages=external). Install only those,
# at the versions package-lock.json pins, instead of the server's whole dependency tree.
WORKDIR /deps
RUN cp /src/package-lock.json .
RUN node <<'EOF'
const fs = require("node:fs");
const { builtinModules } = require("node:module");
const root = JSON.parse(fs.readFileSync("/src/package.json", "utf8"));
const bundle = fs.readFileSync("/src/dist/agent/cli.mjs", "utf8");
const dependencies = {};
for (const [, specifier] of bundle.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["']([^"'.\/][^"']*)["']/g)) {
  if (specifier.startsWith("node:") || builtinModules.includes(specifier.split("/")[0])) continue;
  const name = specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");
  const version = root.dependencies?.[name];
  if (!version) throw new Error(`the agent imports ${name}, which is not in package.json "dependencies"`);
  dependencies[name] = version;
}
console.log("agent packages:", dependencies);
fs.writeFileSync("package.json", JSON.stringify({ name: "runwatch-agent", private: true, dependencies }));
EOF
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /deps/node_modules ./node_modules
COPY --from=build /src/dist/agent ./dist/agent
# The example command agent the `echo` presets run; a real agent CLI must be installed here too.
COPY examples ./examples
# Numeric, so the kubelet can check the Job's runAsNonRoot (1000 is the image's `node` user).
USER 1000:1000
CMD ["node", "dist/agent/cli.mjs"]
