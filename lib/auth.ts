/**
 * Who may do what (README, "Security").
 *
 * RUNWATCH_AUTH=none: every caller is an admin. Allowed by default only while the app is bound
 * to a loopback address (lib/env.ts refuses to start otherwise).
 * RUNWATCH_AUTH=token: three kinds of credential.
 *   - the viewer token (RUNWATCH_VIEWER_TOKEN): read runs and follow their streams;
 *   - the admin token (RUNWATCH_ADMIN_TOKEN): that, plus create runs, control them, pick winners;
 *   - a run's agent token (handed out when the run is created): publish to that run only. Agent
 *     routes need it in both modes.
 * A browser cannot send headers on an EventSource, so the page signs in once with a viewer or
 * admin token and from then on carries an httpOnly session cookie (signed, not stored). Scripts
 * send `Authorization: Bearer <token>` instead.
 *
 * Answers: no credential or a wrong one is 401; a valid credential that does not allow the
 * request (a viewer posting control, an agent token of another run) is 403. The checks run
 * before any lookup, so neither answer says whether a run exists.
 */
import "server-only";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { AGENT_TOKEN_PREFIX, runIdOfAgentToken } from "./agent-tokens";
import { keys } from "./channels";
import { authMode, serverEnv, type ServerEnv } from "./env";
import { ApiError } from "./errors";
import type { Run } from "./events";
import { getRedis } from "./redis";
import { getRun, requireRunId } from "./runs";

export type Role = "viewer" | "admin";

export interface Principal {
  role: Role;
  /** How the caller proved it: "open" when RUNWATCH_AUTH=none. */
  via: "open" | "bearer" | "session";
}

export const SESSION_COOKIE = "runwatch_session";

const sha256 = (text: string) => createHash("sha256").update(text).digest();

/** Equal-time comparison of two secrets of any length (their digests have one length). */
function sameSecret(presented: string, expected: string): boolean {
  return timingSafeEqual(sha256(presented), sha256(expected));
}

function bearerToken(request: Request): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "")?.[1] ?? null;
}

/** The role a viewer or admin token grants, or null for anything else. */
export function roleOfToken(token: string, env: ServerEnv = serverEnv()): Role | null {
  // Both compared every time, so the answer's timing does not say which one matched.
  const admin = env.RUNWATCH_ADMIN_TOKEN !== undefined && sameSecret(token, env.RUNWATCH_ADMIN_TOKEN);
  const viewer = env.RUNWATCH_VIEWER_TOKEN !== undefined && sameSecret(token, env.RUNWATCH_VIEWER_TOKEN);
  return admin ? "admin" : viewer ? "viewer" : null;
}

// ---- Sessions: "v1.<role>.<expires, unix s>.<HMAC-SHA256 of the rest>", nothing kept server-side.

/**
 * From the tokens, and RUNWATCH_SESSION_SECRET when set: every instance with the same
 * configuration accepts the same cookies, and changing a token signs everybody out, with a
 * secret too (a leaked admin token's sessions end when it is replaced; found in review).
 */
function sessionKey(env: ServerEnv): Buffer {
  return sha256(`runwatch-session-v1\0${env.RUNWATCH_SESSION_SECRET ?? ""}\0${env.RUNWATCH_ADMIN_TOKEN ?? ""}\0${env.RUNWATCH_VIEWER_TOKEN ?? ""}`);
}

function sign(payload: string, env: ServerEnv): string {
  return createHmac("sha256", sessionKey(env)).update(payload).digest("base64url");
}

export function createSessionValue(role: Role, env: ServerEnv = serverEnv(), nowMs = Date.now()): string {
  const payload = `v1.${role}.${Math.floor(nowMs / 1000) + env.RUNWATCH_SESSION_MAX_AGE_SECONDS}`;
  return `${payload}.${sign(payload, env)}`;
}

/** The role a session cookie grants, or null when it is malformed, forged or expired. */
export function roleOfSession(value: string, env: ServerEnv = serverEnv(), nowMs = Date.now()): Role | null {
  const match = /^(v1\.(viewer|admin)\.(\d{1,12}))\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!match) return null;
  const [, payload, role, expires, signature] = match;
  const expected = Buffer.from(sign(payload!, env));
  const actual = Buffer.from(signature!);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
  if (Number(expires) * 1000 <= nowMs) return null;
  return role as Role;
}

function cookieValue(request: Request, name: string): string | null {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** Set-Cookie for a session: httpOnly (scripts on the page cannot read it), Lax (no cross-site POSTs). */
export function sessionCookieHeader(request: Request, value: string | null, env: ServerEnv = serverEnv()): string {
  const secure = new URL(request.url).protocol === "https:" || request.headers.get("x-forwarded-proto") === "https";
  const maxAge = value === null ? 0 : env.RUNWATCH_SESSION_MAX_AGE_SECONDS;
  return [`${SESSION_COOKIE}=${value ?? ""}`, "Path=/", "HttpOnly", "SameSite=Lax", `Max-Age=${maxAge}`, ...(secure ? ["Secure"] : [])].join("; ");
}

// ---- Checks used by route handlers and pages.

const SIGN_IN_HINT =
  "sign in on the page with a viewer or admin token, or send Authorization: Bearer <token> (RUNWATCH_VIEWER_TOKEN or RUNWATCH_ADMIN_TOKEN)";

/**
 * The caller as a viewer or admin, or null for no/invalid credentials. A bearer header, when
 * sent, is what counts (a script's token is not overridden by a stale cookie in the same jar).
 */
export function principalOf(request: Request, env: ServerEnv = serverEnv()): Principal | null {
  if (authMode(env) === "none") return { role: "admin", via: "open" };
  const bearer = bearerToken(request);
  if (bearer !== null) {
    const role = roleOfToken(bearer, env);
    return role ? { role, via: "bearer" } : null;
  }
  const session = cookieValue(request, SESSION_COOKIE);
  const role = session ? roleOfSession(session, env) : null;
  return role ? { role, via: "session" } : null;
}

/** The role behind a page request's session cookie (pages have no Request, only cookies). */
export function pageRole(sessionCookie: string | undefined, env: ServerEnv = serverEnv()): Role | null {
  if (authMode(env) === "none") return "admin";
  return sessionCookie ? roleOfSession(sessionCookie, env) : null;
}

function unauthenticated(request: Request): ApiError {
  const bearer = bearerToken(request);
  const agentToken = bearer !== null && bearer.startsWith(AGENT_TOKEN_PREFIX);
  return new ApiError(
    "unauthorized",
    agentToken
      ? "An agent token only opens its own run's agent routes (events, heartbeat, control/stream); this route needs a viewer or admin token"
      : bearer !== null
        ? "The bearer token is neither the viewer nor the admin token"
        : `Authentication required: ${SIGN_IN_HINT}`,
  );
}

/**
 * A request that changes something and is let in by its cookie, or by nothing at all
 * (RUNWATCH_AUTH=none), must come from this site: a page elsewhere could otherwise make the
 * browser post to it (SameSite=Lax stops the cookie, but with sign-in off no cookie is needed;
 * found in review). A browser always sends Origin on such a request; scripts with a bearer
 * token are not browsers and are not checked.
 */
function checkSameOrigin(request: Request, principal: Principal): void {
  if (principal.via === "bearer" || request.method === "GET" || request.method === "HEAD") return;
  const origin = request.headers.get("origin");
  if (origin === null) return;
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host");
  let originHost: string | null = null;
  try {
    originHost = new URL(origin).host;
  } catch {
    // "null" and other unparseable origins are cross-site by definition.
  }
  if (originHost === null || originHost !== host) {
    throw new ApiError("forbidden", "Cross-site request refused: the Origin header is not this server");
  }
}

/** Viewers and admins: reading runs, following streams, metrics. */
export function requireViewer(request: Request): Principal {
  const principal = principalOf(request);
  if (!principal) throw unauthenticated(request);
  return principal;
}

/** Admins only: creating, controlling and judging runs. */
export function requireAdmin(request: Request): Principal {
  const principal = requireViewer(request);
  if (principal.role !== "admin") {
    throw new ApiError("forbidden", "This needs the admin token: a viewer may watch runs but not start or control them");
  }
  checkSameOrigin(request, principal);
  return principal;
}

// ---- Agent tokens (lib/agent-tokens.ts): only their SHA-256 is stored, in the run's meta.

async function agentTokenMatches(runId: string, token: string): Promise<boolean> {
  const stored = await getRedis().hget(keys.runMeta(runId), "agent_token_sha256");
  const expected = Buffer.from(stored ?? "", "hex");
  const actual = sha256(token);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * The run, for a request carrying that run's agent token. A run that does not exist (or has
 * expired) is answered like a wrong token, so the answer never says which runs exist; a valid
 * token of another run is 403.
 */
export async function requireAgent(request: Request, runId: string): Promise<Run> {
  const token = bearerToken(request);
  if (token === null) {
    throw new ApiError("unauthorized", "This route is for the run's agents: send Authorization: Bearer <agent token> (returned as agent_token when the run was created)");
  }
  const id = requireRunId(runId);
  if (await agentTokenMatches(id, token)) {
    const run = await getRun(id);
    if (run) return run;
  }
  const tokenRun = runIdOfAgentToken(token);
  if (tokenRun !== null && tokenRun !== id && (await agentTokenMatches(tokenRun, token))) {
    throw new ApiError("forbidden", "This agent token belongs to another run: an agent may publish to its own run only");
  }
  throw new ApiError("unauthorized", "The agent token is not valid for this run, or the run has expired");
}
