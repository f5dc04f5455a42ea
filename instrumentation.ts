/**
 * Runs once when the server starts: check the configuration then, so a missing REDIS_URL
 * stops `next start` with the variable's name instead of failing every request later.
 */
export async function register() {
  // The edge runtime has no Redis and no child processes; only the Node server is checked.
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { serverEnv } = await import("./lib/env");
  serverEnv();
}
