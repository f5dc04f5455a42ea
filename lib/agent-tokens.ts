/**
 * Per-run agent tokens: "rwa_<run id>.<256 random bits>". Only a token's SHA-256 is stored (in
 * the run's meta); lib/auth.ts checks them.
 */
import { createHash, randomBytes } from "node:crypto";

export const AGENT_TOKEN_PREFIX = "rwa_";
const AGENT_TOKEN = /^rwa_(run-[0-9a-z]{12})\.[A-Za-z0-9_-]{43}$/;

/** The run's id is in the token so a token of another run can be told from a made-up one (403 vs 401). */
export function newAgentToken(runId: string): string {
  return `${AGENT_TOKEN_PREFIX}${runId}.${randomBytes(32).toString("base64url")}`;
}

export function hashAgentToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** The run a token names, when it has the shape of one (it may still be made up). */
export function runIdOfAgentToken(token: string): string | null {
  return AGENT_TOKEN.exec(token)?.[1] ?? null;
}
