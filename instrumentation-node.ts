/**
 * Check the configuration at start-up: a missing REDIS_URL stops `next start` with the
 * variable's name. (Next itself would only log a thrown error here and then answer every
 * request with a bare 500.) Then start ingesting agents' inboxes (lib/ingest.ts): every
 * instance does, so runs whose agents write while no one views them are still published.
 */
import { serverEnv } from "./lib/env";
import { startIngest } from "./lib/ingest";

try {
  serverEnv();
} catch (error) {
  console.error(`[runwatch] cannot start: ${(error as Error).message}`);
  process.exit(1);
}

startIngest();
