import { NewRunForm } from "@/components/new-run-form";
import { RunsList } from "@/components/runs-list";
import { serverEnv } from "@/lib/env";
import { requirePageRole } from "@/lib/page-auth";

// The backend default is read from the environment per request, not at build time.
export const dynamic = "force-dynamic";

export default async function HomePage() {
  const role = await requirePageRole("/");
  return (
    <div className="grid gap-6 lg:grid-cols-[minmax(320px,420px)_1fr]">
      <section aria-labelledby="new-run-heading" className="min-w-0 rounded-lg border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900">
        <h1 id="new-run-heading" className="mb-3 text-base font-semibold">
          New run
        </h1>
        {role === "admin" ? (
          <NewRunForm serverBackend={serverEnv().NEXT_PUBLIC_STREAMING_BACKEND} />
        ) : (
          <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="viewer-only">
            You are signed in as a viewer: you can watch runs. Starting and controlling them needs the admin token.
          </p>
        )}
      </section>
      <section aria-labelledby="runs-heading" className="min-w-0">
        <h2 id="runs-heading" className="mb-3 text-base font-semibold">
          Runs
        </h2>
        <RunsList />
      </section>
    </div>
  );
}
