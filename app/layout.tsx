import type { Metadata } from "next";
import Link from "next/link";
import "./globals.css";

export const metadata: Metadata = {
  title: "Runwatch",
  description: "Watch AI-agent runs stream live, variation by variation.",
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen bg-zinc-50 text-zinc-900 antialiased dark:bg-zinc-950 dark:text-zinc-100">
        <header className="border-b border-zinc-200 bg-white/80 px-4 py-3 dark:border-zinc-800 dark:bg-zinc-900/80">
          <Link href="/" className="text-lg font-semibold tracking-tight">
            Runwatch
          </Link>
        </header>
        <main className="mx-auto max-w-screen-2xl p-4">{children}</main>
      </body>
    </html>
  );
}
