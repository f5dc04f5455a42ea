"use client";

import { defaultRangeExtractor, elementScroll, useVirtualizer, type Range } from "@tanstack/react-virtual";
import { memo, useCallback, useMemo, useState, type RefObject } from "react";
import ReactMarkdown from "react-markdown";
import { REHYPE_PLUGINS, REMARK_PLUGINS } from "@/lib/markdown-plugins";
import { splitMarkdown } from "@/lib/markdown-stream";

/** One block, parsed again only if its text changes (finished blocks never do). */
const MarkdownBlock = memo(function MarkdownBlock({ text }: { text: string }) {
  return (
    <ReactMarkdown remarkPlugins={REMARK_PLUGINS} rehypePlugins={REHYPE_PLUGINS}>
      {text}
    </ReactMarkdown>
  );
});

/**
 * From this many blocks on, only the blocks in (and near) view are in the DOM. Below it every
 * block is, so a short answer can be searched with the browser's find and read by tests whole.
 */
export const VIRTUALISE_FROM_BLOCKS = 150;

/** A paragraph of a few lines; real heights are measured once a block is shown. */
const ESTIMATED_BLOCK_PX = 56;

interface MarkdownOutputProps {
  markdown: string;
  /** The pane's scroll container, in which long outputs are virtualised. */
  scrollRef?: RefObject<HTMLElement | null>;
  /** Whether the pane sticks to the bottom as text arrives (hooks/use-follow.ts). */
  following?: boolean;
  onOwnScroll?: () => void;
}

/**
 * Agent output as GitHub-flavoured markdown, streamed: finished blocks are parsed once and only
 * the block being written is parsed per token (lib/markdown-stream.ts), with an open code fence
 * shown closed so it does not flicker from text into code. Long outputs are virtualised in
 * `scrollRef`'s element (the pane's scroll container).
 */
export const MarkdownOutput = memo(function MarkdownOutput({ markdown, scrollRef, following = false, onOwnScroll }: MarkdownOutputProps) {
  const { stable, renderTail } = useMemo(() => splitMarkdown(markdown), [markdown]);
  const blockCount = stable.length + (renderTail ? 1 : 0);
  return (
    <div className="markdown text-sm leading-relaxed [&_code]:font-mono [&_h2]:mt-2 [&_h2]:text-base [&_h2]:font-semibold [&_h3]:mt-3 [&_h3]:font-semibold [&_ol]:list-decimal [&_ol]:pl-5 [&_p]:my-2 [&_pre]:my-2 [&_pre]:overflow-x-auto [&_pre]:rounded [&_pre]:bg-zinc-100 [&_pre]:p-2 [&_pre]:text-xs dark:[&_pre]:bg-zinc-800 [&_table]:my-2 [&_table]:text-xs [&_td]:border [&_td]:border-zinc-300 [&_td]:px-2 dark:[&_td]:border-zinc-700 [&_th]:border [&_th]:border-zinc-300 [&_th]:px-2 dark:[&_th]:border-zinc-700 [&_ul]:list-disc [&_ul]:pl-5 [&_blockquote]:border-l-4 [&_blockquote]:border-zinc-300 [&_blockquote]:pl-3 [&_blockquote]:text-zinc-600 dark:[&_blockquote]:text-zinc-400">
      {scrollRef && blockCount >= VIRTUALISE_FROM_BLOCKS ? (
        <VirtualBlocks stable={stable} renderTail={renderTail} scrollRef={scrollRef} following={following} onOwnScroll={onOwnScroll} />
      ) : (
        <>
          {stable.map((block, i) => (
            <MarkdownBlock key={i} text={block} />
          ))}
          {renderTail && <MarkdownBlock key="tail" text={renderTail} />}
        </>
      )}
    </div>
  );
});

/**
 * The blocks in view, each measured once rendered (a code block is taller than a line).
 * `flow-root` keeps a block's margins inside its box, so the measured height is the space it
 * takes and blocks never overlap.
 */
function VirtualBlocks({ stable, renderTail, scrollRef, following, onOwnScroll }: { stable: string[]; renderTail: string; scrollRef: RefObject<HTMLElement | null>; following: boolean; onOwnScroll?: () => void }) {
  const count = stable.length + (renderTail ? 1 : 0);
  // While following, the pane scrolls to the bottom right after this render commits, and the
  // blocks that scroll brings into view would be rendered from the scroll event, in one
  // uninterruptible task: at 1,000 chunks a second that was 40-80 ms of markdown parsing per
  // batch. Rendering the last screenful here as well parses them in the stream's transition,
  // in slices; the scroll then finds them rendered already.
  const rangeExtractor = useCallback(
    (range: Range) => {
      const indexes = defaultRangeExtractor(range);
      if (!following) return indexes;
      const screenful = range.endIndex - range.startIndex + 1 + range.overscan;
      for (let i = Math.max(range.count - screenful, (indexes.at(-1) ?? -1) + 1); i < range.count; i++) indexes.push(i);
      return indexes;
    },
    [following],
  );
  // Where the pane is when the output becomes long enough to virtualise: without it the first
  // render has no viewport (nothing in view), the virtualiser scrolls the pane to the top on
  // mount, and the blocks there and at the bottom were all parsed in the commit that followed,
  // in one task (30-40 blocks, 60-90 ms). Read once, when the virtualiser is created.
  const [initial] = useState(() => {
    const element = scrollRef.current;
    return element ? { rect: { width: element.clientWidth, height: element.clientHeight }, offset: element.scrollTop } : { rect: undefined, offset: 0 };
  });
  // The React Compiler is not enabled here, so its warning about this hook does not apply.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ESTIMATED_BLOCK_PX,
    initialRect: initial.rect,
    initialOffset: initial.offset,
    overscan: 8,
    rangeExtractor,
    // A measured height re-renders with the next update rather than synchronously inside the
    // scroll event or the commit that measured it (as in the log list).
    useFlushSync: false,
    // The virtualiser scrolls the pane itself to keep blocks in place as their real heights come
    // in; the pane's follow mode must not take that for the reader scrolling up.
    scrollToFn: (offset, options, instance) => {
      onOwnScroll?.();
      elementScroll(offset, options, instance);
    },
  });
  return (
    <div className="relative w-full" style={{ height: virtualizer.getTotalSize() }} data-testid="output-virtualised" data-blocks={count}>
      {virtualizer.getVirtualItems().map((item) => (
        <div
          key={item.key}
          data-index={item.index}
          ref={virtualizer.measureElement}
          className="absolute top-0 left-0 flow-root w-full"
          style={{ transform: `translateY(${item.start}px)` }}
        >
          <MarkdownBlock text={item.index < stable.length ? stable[item.index]! : renderTail} />
        </div>
      ))}
    </div>
  );
}
