"use client";

import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";

/** How close to the bottom (px) still counts as "reading the latest". */
const NEAR_BOTTOM_PX = 48;

export interface Follow<T extends HTMLElement> {
  ref: React.RefObject<T | null>;
  onScroll: () => void;
  /**
   * A wheel turned up is the reader's intent, even when new text scrolls the pane back down in
   * the same frame (then the scroll events alone look like ours and following would go on).
   */
  onWheel: (event: { deltaY: number }) => void;
  /** True while the pane sticks to the bottom as text arrives. */
  following: boolean;
  /** Items that arrived since the reader scrolled up (0 while following). */
  unseen: number;
  /** Back to the bottom, following again. */
  jumpToLatest: () => void;
  /** Follow or stop following (the `f` key, a toggle button). */
  setFollowing: (follow: boolean) => void;
  /**
   * Call just before scrolling the container from code (a virtualiser keeping its items in
   * place as their measured heights come in): that scroll is not the reader's.
   */
  markOwnScroll: () => void;
}

/**
 * Follow mode for a scroll container whose content grows. While following, each new item
 * scrolls it to the bottom. Scrolling up to read stops following, and from then on the reader's
 * scroll position is never touched: the page counts what arrived meanwhile and offers
 * "Jump to latest". Scrolling back to the bottom follows again. `count` is how many items
 * (messages, lines) the content holds.
 */
export function useFollow<T extends HTMLElement>(count: number): Follow<T> {
  const ref = useRef<T | null>(null);
  const [following, setFollowingState] = useState(true);
  /** The same, readable synchronously in scroll handlers. */
  const followingNow = useRef(true);
  const [countWhenLeft, setCountWhenLeft] = useState(count);
  /** Scroll events caused by our own scrolling are not the reader's. */
  const programmatic = useRef(false);
  /** The latest count, for callbacks that must stay the same function whatever it is. */
  const latestCount = useRef(count);
  useEffect(() => {
    latestCount.current = count;
  }, [count]);

  const scrollToBottom = useCallback(() => {
    const el = ref.current;
    // followingNow, not the state: the reader may have stopped following since this render.
    if (!el || !followingNow.current) return;
    programmatic.current = true;
    el.scrollTop = el.scrollHeight;
  }, []);

  const onScroll = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    if (programmatic.current) {
      programmatic.current = false;
      if (atBottom) return;
      // Our own scroll left the bottom while following (a virtualiser corrected its offsets for
      // heights it just measured): back to the bottom. A wheel turned up has already stopped
      // following (onWheel), so a reader's scroll in the same frame still wins.
      if (followingNow.current) {
        scrollToBottom();
        return;
      }
    }
    if (followingNow.current === atBottom) return;
    followingNow.current = atBottom;
    setFollowingState(atBottom);
    if (!atBottom) setCountWhenLeft(count);
  }, [count, scrollToBottom]);

  useLayoutEffect(() => {
    if (following) scrollToBottom();
  }, [count, following, scrollToBottom]);

  const onWheel = useCallback((event: { deltaY: number }) => {
    if (event.deltaY >= 0 || !followingNow.current) return;
    followingNow.current = false;
    setFollowingState(false);
    setCountWhenLeft(latestCount.current);
  }, []);

  // Stable: components call it from effects and listeners that must not re-run per new item.
  const setFollowing = useCallback(
    (follow: boolean) => {
      followingNow.current = follow;
      setFollowingState(follow);
      setCountWhenLeft(latestCount.current);
      if (follow) scrollToBottom();
    },
    [scrollToBottom],
  );

  const jumpToLatest = useCallback(() => setFollowing(true), [setFollowing]);
  const markOwnScroll = useCallback(() => {
    programmatic.current = true;
  }, []);

  return { ref, onScroll, onWheel, following, unseen: following ? 0 : Math.max(0, count - countWhenLeft), jumpToLatest, setFollowing, markOwnScroll };
}
