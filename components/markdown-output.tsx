"use client";

import { memo, useMemo } from "react";
import ReactMarkdown from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";
import { splitMarkdown } from "@/lib/markdown-stream";

const REMARK = [remarkGfm];
/**
 * Code fences are highlighted by highlight.js (through rehype-highlight) when they name their
 * language; a language it does not know stays plain, and nothing is guessed for unnamed fences.
 */
const REHYPE = [rehypeHighlight];

/** One block, parsed again only if its text changes (finished blocks never do). */
const MarkdownBlock = memo(function MarkdownBlock({ text }: { text: string }) {
  return (
    <ReactMarkdown remarkPlugins={REMARK} rehypePlugins={REHYPE}>
      {text}
    </ReactMarkdown>
  );
});

/**
 * Agent output as GitHub-flavoured markdown, streamed: finished blocks are parsed once and only
 * the block being written is parsed per token (lib/markdown-stream.ts), with an open code fence
 * shown closed so it does not flicker from text into code.
 */
export const MarkdownOutput = memo(function MarkdownOutput({ markdown }: { markdown: string }) {
  const { stable, renderTail } = useMemo(() => splitMarkdown(markdown), [markdown]);
  return (
    <div className="markdown text-sm leading-relaxed [&_code]:font-mono [&_h2]:mt-2 [&_h2]:text-base [&_h2]:font-semibold [&_h3]:mt-3 [&_h3]:font-semibold [&_ol]:list-decimal [&_ol]:pl-5 [&_p]:my-2 [&_pre]:my-2 [&_pre]:overflow-x-auto [&_pre]:rounded [&_pre]:bg-zinc-100 [&_pre]:p-2 [&_pre]:text-xs dark:[&_pre]:bg-zinc-800 [&_table]:my-2 [&_table]:text-xs [&_td]:border [&_td]:border-zinc-300 [&_td]:px-2 dark:[&_td]:border-zinc-700 [&_th]:border [&_th]:border-zinc-300 [&_th]:px-2 dark:[&_th]:border-zinc-700 [&_ul]:list-disc [&_ul]:pl-5 [&_blockquote]:border-l-4 [&_blockquote]:border-zinc-300 [&_blockquote]:pl-3 [&_blockquote]:text-zinc-600 dark:[&_blockquote]:text-zinc-400">
      {stable.map((block, i) => (
        <MarkdownBlock key={i} text={block} />
      ))}
      {renderTail && <MarkdownBlock key="tail" text={renderTail} />}
    </div>
  );
});
