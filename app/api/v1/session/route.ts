import { principalOf, roleOfToken, sessionCookieHeader, createSessionValue } from "@/lib/auth";
import { authMode } from "@/lib/env";
import { ApiError, toErrorResponse } from "@/lib/errors";
import { signInRequestSchema } from "@/lib/events";
import { readJsonBody } from "@/lib/http";
import { enforceRateLimit } from "@/lib/rate-limit";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** Who the caller is: `{auth: "none" | "token", role: "viewer" | "admin" | null}`. Never 401. */
export function GET(request: Request) {
  try {
    return Response.json({ auth: authMode(), role: principalOf(request)?.role ?? null });
  } catch (error) {
    return toErrorResponse(error, "GET /api/v1/session");
  }
}

/**
 * Sign in with the viewer or admin token: sets the httpOnly session cookie the page's
 * EventSource carries (it cannot send an Authorization header). 401 for any other token.
 */
export async function POST(request: Request) {
  try {
    await enforceRateLimit("sign_in", request, "POST /api/v1/session");
    const { token } = signInRequestSchema.parse(await readJsonBody(request));
    if (authMode() === "none") return Response.json({ auth: "none", role: "admin" });
    const role = roleOfToken(token);
    if (!role) throw new ApiError("unauthorized", "That is neither the viewer token nor the admin token");
    return Response.json({ auth: "token", role }, { headers: { "Set-Cookie": sessionCookieHeader(request, createSessionValue(role)) } });
  } catch (error) {
    return toErrorResponse(error, "POST /api/v1/session");
  }
}

/** Sign out: the cookie is cleared (it is signed, not stored, so there is nothing else to forget). */
export function DELETE(request: Request) {
  return new Response(null, { status: 204, headers: { "Set-Cookie": sessionCookieHeader(request, null) } });
}
