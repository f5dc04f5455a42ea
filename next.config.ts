import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // `next dev` opened at 127.0.0.1 (as tests and many users do) does not hydrate without this.
  allowedDevOrigins: ["127.0.0.1"],
  // Node libraries loaded from node_modules rather than bundled: ioredis has optional native
  // bits; the Kubernetes client is large and only loaded with RUNWATCH_ORCHESTRATOR=kubernetes.
  serverExternalPackages: ["ioredis", "@kubernetes/client-node"],
  poweredByHeader: false,
};

export default nextConfig;
