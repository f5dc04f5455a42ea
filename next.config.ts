import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // `next dev` opened at 127.0.0.1 (as tests and many users do) does not hydrate without this.
  allowedDevOrigins: ["127.0.0.1"],
  // ioredis is a Node library with optional native bits; load it from node_modules, not the bundle.
  serverExternalPackages: ["ioredis"],
  poweredByHeader: false,
};

export default nextConfig;
