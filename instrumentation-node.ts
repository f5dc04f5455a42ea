/**
 * Check the configuration at start-up: a missing REDIS_URL stops the server (server.mjs or `next start`) with the
 * variable's name. (Next itself would only log a thrown error here and then answer every
 * request with a bare 500.) Then start ingesting agents' inboxes (lib/ingest.ts): every
 * instance does, so runs whose agents write while no one views them are still published.
 */
import { serverEnv } from "./lib/env";
import { startIngest } from "./lib/ingest";
import { offerNodeStreamHandler } from "./lib/node-stream";

try {
  serverEnv();
} catch (error) {
  console.error(`[runwatch] cannot start: ${(error as Error).message}`);
  process.exit(1);
}

startIngest();
// Used when Runwatch's own server (server.mjs) runs Next; `next start` never looks for it.
offerNodeStreamHandler();
