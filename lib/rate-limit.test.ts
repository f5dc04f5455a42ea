import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { clientAddress, rateLimitError, rateLimitKey } from "./rate-limit";

const requestWith = (headers: Record<string, string>) => new Request("http://localhost/", { headers });

describe("clientAddress", () => {
  it("takes the last X-Forwarded-For entry: the one the nearest proxy added", () => {
    expect(clientAddress(new Headers({ "x-forwarded-for": "203.0.113.7" }))).toBe("203.0.113.7");
    expect(clientAddress(new Headers({ "x-forwarded-for": "1.2.3.4, 10.0.0.1,198.51.100.4 " }))).toBe("198.51.100.4");
    expect(clientAddress(new Headers({ "x-forwarded-for": "2001:db8::1" }))).toBe("2001:db8::1");
  });

  it("counts an IPv4 client the same whether its socket was IPv4 or IPv6", () => {
    expect(clientAddress(new Headers({ "x-forwarded-for": "::ffff:127.0.0.1" }))).toBe("127.0.0.1");
  });

  it("says unknown when there is no header (never the case behind next start)", () => {
    expect(clientAddress(new Headers())).toBe("unknown");
    expect(clientAddress(new Headers({ "x-forwarded-for": " , " }))).toBe("unknown");
  });
});

describe("rateLimitKey", () => {
  it("keys by the hash of the Authorization header, never the token itself", () => {
    const key = rateLimitKey(requestWith({ authorization: "Bearer rwa_secret", "x-forwarded-for": "203.0.113.7" }));
    expect(key).toBe(`auth:${createHash("sha256").update("Bearer rwa_secret").digest("hex")}`);
    expect(key).not.toContain("rwa_secret");
  });

  it("keys by address without one", () => {
    expect(rateLimitKey(requestWith({ "x-forwarded-for": "203.0.113.7" }))).toBe("ip:203.0.113.7");
    expect(rateLimitKey(requestWith({ authorization: "  ", "x-forwarded-for": "203.0.113.7" }))).toBe("ip:203.0.113.7");
  });
});

describe("rateLimitError", () => {
  it("is a 429 naming the limit and its variable, with Retry-After in whole seconds, at least 1", async () => {
    const error = rateLimitError("run_creation", 30, 60, 12_300);
    expect(error.status).toBe(429);
    expect(error.message).toBe("Rate limit reached: at most 30 runs created per 60 s for each client (RATE_LIMIT_RUN_CREATION); retry in 13 s");
    const response = error.toResponse();
    expect(response.headers.get("retry-after")).toBe("13");
    expect(rateLimitError("agent", 5, 1, 0).retryAfterSeconds).toBe(1);
  });
});
