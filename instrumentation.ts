/**
 * Runs once when the server starts. Node-only work lives in instrumentation-node.ts, imported
 * behind the NEXT_RUNTIME check so the edge bundle never includes it (Next's documented pattern).
 */
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") await import("./instrumentation-node");
}
