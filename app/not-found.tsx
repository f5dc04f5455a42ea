import Link from "next/link";

export default function NotFound() {
  return (
    <div className="py-16 text-center">
      <h1 className="text-xl font-semibold">Not found</h1>
      <p className="mt-2 text-zinc-600 dark:text-zinc-400">
        There is no such page or run. Run ids look like <code>run-0a1b2c3d4e5f</code>.
      </p>
      <Link href="/" className="mt-4 inline-block text-blue-600 underline dark:text-blue-400">
        Back to runs
      </Link>
    </div>
  );
}
