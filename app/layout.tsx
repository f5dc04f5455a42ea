import type { Metadata } from "next";
import Link from "next/link";
import { SignOutButton } from "@/components/sign-in-form";
import { authMode, serverEnv } from "@/lib/env";
import { currentPageRole } from "@/lib/page-auth";
import "./globals.css";

// The header shows who is signed in (a cookie) and the auth mode (the environment, read at
// request time, never at build time when it may be missing).
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: "Runwatch",
  description: "Watch AI-agent runs stream live, variation by variation.",
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const mode = authMode();
  const role = mode === "token" ? await currentPageRole() : null;
  return (
    <html lang="en">
      <body className="min-h-screen bg-zinc-50 text-zinc-900 antialiased dark:bg-zinc-950 dark:text-zinc-100">
        <header className="border-b border-zinc-200 bg-white/80 px-4 py-3 dark:border-zinc-800 dark:bg-zinc-900/80">
          <div className="flex flex-wrap items-center gap-3">
            <Link href="/" className="text-lg font-semibold tracking-tight">
              Runwatch
            </Link>
            {role && (
              <span className="ml-auto flex items-center gap-2 text-xs text-zinc-600 dark:text-zinc-400" data-testid="signed-in-as">
                Signed in as {role}
                <SignOutButton />
              </span>
            )}
          </div>
          {mode === "none" && (
            <p className="mt-1 text-xs text-amber-800 dark:text-amber-300" data-testid="auth-off">
              Sign-in is off (RUNWATCH_AUTH=none): anyone who can reach this server may start and control runs. It is bound to{" "}
              {serverEnv().HOST ?? "localhost"} only; set RUNWATCH_AUTH=token before exposing it.
            </p>
          )}
        </header>
        <main className="mx-auto max-w-screen-2xl p-4">{children}</main>
      </body>
    </html>
  );
}
