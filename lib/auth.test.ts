import { describe, expect, it } from "vitest";
import { createSessionValue, roleOfSession, roleOfToken } from "./auth";
import { runIdOfAgentToken, newAgentToken, hashAgentToken } from "./agent-tokens";
import { authMode, isLoopbackHost, type ServerEnv } from "./env";
import { safeNextPath } from "./urls";

const ADMIN = "admin-token-0123456789";
const VIEWER = "viewer-token-0123456789";
const env = (extra: Partial<ServerEnv> = {}) =>
  ({ RUNWATCH_AUTH: "token", RUNWATCH_ADMIN_TOKEN: ADMIN, RUNWATCH_VIEWER_TOKEN: VIEWER, RUNWATCH_SESSION_MAX_AGE_SECONDS: 3600, ...extra }) as ServerEnv;

describe("auth mode", () => {
  it("defaults to none only on a loopback address", () => {
    expect(authMode({ HOST: "127.0.0.1" })).toBe("none");
    expect(authMode({ HOST: "::1" })).toBe("none");
    expect(authMode({ HOST: "localhost" })).toBe("none");
    expect(authMode({ HOST: "0.0.0.0" })).toBe("token");
    expect(authMode({ HOST: "192.168.1.5" })).toBe("token");
    // A bare `next start` binds every interface and sets no HOST.
    expect(authMode({})).toBe("token");
  });

  it("follows RUNWATCH_AUTH when set, and tokens when given", () => {
    expect(authMode({ HOST: "0.0.0.0", RUNWATCH_AUTH: "none" })).toBe("none");
    expect(authMode({ HOST: "127.0.0.1", RUNWATCH_AUTH: "token" })).toBe("token");
    expect(authMode({ HOST: "127.0.0.1", RUNWATCH_ADMIN_TOKEN: ADMIN })).toBe("token");
  });

  it("knows loopback addresses from look-alikes", () => {
    expect(isLoopbackHost("127.8.9.10")).toBe(true);
    expect(isLoopbackHost("127.0.0.1.evil.example")).toBe(false);
    expect(isLoopbackHost("localhost.evil.example")).toBe(false);
    expect(isLoopbackHost(undefined)).toBe(false);
  });
});

describe("tokens", () => {
  it("tells the admin and viewer tokens apart and refuses anything else", () => {
    expect(roleOfToken(ADMIN, env())).toBe("admin");
    expect(roleOfToken(VIEWER, env())).toBe("viewer");
    expect(roleOfToken(`${ADMIN} `, env())).toBeNull();
    expect(roleOfToken(ADMIN.slice(0, -1), env())).toBeNull();
    expect(roleOfToken("", env())).toBeNull();
  });

  it("names its run in an agent token, which hashes to a stable value", () => {
    const token = newAgentToken("run-abcdefghij12");
    expect(runIdOfAgentToken(token)).toBe("run-abcdefghij12");
    expect(runIdOfAgentToken("rwa_run-abcdefghij12.short")).toBeNull();
    expect(hashAgentToken(token)).toBe(hashAgentToken(token));
    expect(newAgentToken("run-abcdefghij12")).not.toBe(token);
  });
});

describe("session cookies", () => {
  const now = Date.parse("2026-11-23T12:00:00Z");

  it("grant the role they were made for until they expire", () => {
    const value = createSessionValue("viewer", env(), now);
    expect(roleOfSession(value, env(), now + 1000)).toBe("viewer");
    expect(roleOfSession(value, env(), now + 3600_000)).toBeNull();
    expect(roleOfSession(createSessionValue("admin", env(), now), env(), now)).toBe("admin");
  });

  it("refuse a forged role, a changed expiry or another key", () => {
    const value = createSessionValue("viewer", env(), now);
    const [v, , expires, signature] = value.split(".");
    expect(roleOfSession(`${v}.admin.${expires}.${signature}`, env(), now)).toBeNull();
    expect(roleOfSession(`${v}.viewer.${Number(expires) + 10_000}.${signature}`, env(), now)).toBeNull();
    // Changing a token (or setting a secret) signs everybody out.
    expect(roleOfSession(value, env({ RUNWATCH_VIEWER_TOKEN: "another-viewer-token-1" }), now)).toBeNull();
    expect(roleOfSession(value, env({ RUNWATCH_SESSION_SECRET: "s".repeat(32) }), now)).toBeNull();
    expect(roleOfSession("garbage", env(), now)).toBeNull();
    expect(roleOfSession("", env(), now)).toBeNull();
  });

  it("end when a token changes, with a session secret too (a leaked token's sessions must not outlive it)", () => {
    const withSecret = env({ RUNWATCH_SESSION_SECRET: "s".repeat(32) });
    const value = createSessionValue("admin", withSecret, now);
    expect(roleOfSession(value, withSecret, now)).toBe("admin");
    expect(roleOfSession(value, { ...withSecret, RUNWATCH_ADMIN_TOKEN: "rotated-admin-token-1" }, now)).toBeNull();
  });
});

describe("safeNextPath", () => {
  it("keeps paths on this site and drops everything else", () => {
    expect(safeNextPath("/runs/run-abcdefghij12")).toBe("/runs/run-abcdefghij12");
    expect(safeNextPath("//evil.example/x")).toBe("/");
    expect(safeNextPath("/\\evil.example")).toBe("/");
    expect(safeNextPath("https://evil.example")).toBe("/");
    expect(safeNextPath(undefined)).toBe("/");
    expect(safeNextPath(["/a", "/b"])).toBe("/a");
    // Browsers drop tabs and newlines: each of these would leave the site (found in review).
    for (const sneaky of ["/\t/evil.example", "/\n/evil.example", "/\r\\evil.example", "/\\/evil.example"]) expect(safeNextPath(sneaky)).toBe("/");
    expect(safeNextPath("/runs/x?y=1#v1-L2")).toBe("/runs/x?y=1#v1-L2");
  });
});
