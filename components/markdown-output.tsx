"use client";

import { memo } from "react";
import ReactMarkdown from "react-markdown";
import remarkGfm from "remark-gfm";

/**
 * Agent output as GitHub-flavoured markdown. Memoised on the text so panes whose output did
 * not change in a batch are not re-parsed.
 */
export const MarkdownOutput = memo(function MarkdownOutput({ markdown }: { markdown: string }) {
  return (
    <div className="markdown text-sm leading-relaxed [&_code]:font-mono [&_h2]:mt-2 [&_h2]:text-base [&_h2]:font-semibold [&_h3]:mt-3 [&_h3]:font-semibold [&_ol]:list-decimal [&_ol]:pl-5 [&_p]:my-2 [&_pre]:my-2 [&_pre]:overflow-x-auto [&_pre]:rounded [&_pre]:bg-zinc-100 [&_pre]:p-2 [&_pre]:text-xs dark:[&_pre]:bg-zinc-800 [&_table]:my-2 [&_table]:text-xs [&_td]:border [&_td]:border-zinc-300 [&_td]:px-2 dark:[&_td]:border-zinc-700 [&_th]:border [&_th]:border-zinc-300 [&_th]:px-2 dark:[&_th]:border-zinc-700 [&_ul]:list-disc [&_ul]:pl-5 [&_blockquote]:border-l-4 [&_blockquote]:border-zinc-300 [&_blockquote]:pl-3 [&_blockquote]:text-zinc-600 dark:[&_blockquote]:text-zinc-400">
      <ReactMarkdown remarkPlugins={[remarkGfm]}>{markdown}</ReactMarkdown>
    </div>
  );
});
