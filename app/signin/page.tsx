import { redirect } from "next/navigation";
import { SignInForm } from "@/components/sign-in-form";
import { authMode } from "@/lib/env";
import { safeNextPath } from "@/lib/urls";

export const dynamic = "force-dynamic";

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const next = safeNextPath((await searchParams).next);
  if (authMode() === "none") redirect(next);
  return (
    <section aria-labelledby="sign-in-heading" className="mx-auto max-w-sm rounded-lg border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900">
      <h1 id="sign-in-heading" className="mb-1 text-base font-semibold">
        Sign in
      </h1>
      <p className="mb-3 text-sm text-zinc-600 dark:text-zinc-400">
        With the viewer token to watch runs, or the admin token to also start and control them. Ask whoever runs this server.
      </p>
      <SignInForm next={next} />
    </section>
  );
}
