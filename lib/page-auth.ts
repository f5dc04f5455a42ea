/**
 * Sign-in for pages (server components): they have cookies, not a Request, and answer a
 * missing session with a redirect to /signin rather than a 401.
 */
import "server-only";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { pageRole, SESSION_COOKIE, type Role } from "./auth";

/** The visitor's role, after sending anyone not signed in to /signin (and back to `path` after). */
export async function requirePageRole(path: string): Promise<Role> {
  const role = pageRole((await cookies()).get(SESSION_COOKIE)?.value);
  if (!role) redirect(`/signin?next=${encodeURIComponent(path)}`);
  return role;
}

/** The visitor's role, or null when not signed in; for the layout's header. */
export async function currentPageRole(): Promise<Role | null> {
  return pageRole((await cookies()).get(SESSION_COOKIE)?.value);
}
