/**
 * Run and variation identifiers.
 *
 * Run ids end up inside Redis channel patterns (`psubscribe run:<id>:*`), so an id with a
 * glob character (`*`, `?`, `[`) or our separator (`:`) would subscribe to other runs'
 * traffic. We only accept ids of exactly the form we issue, and check them before any
 * Redis call.
 */
import { z } from "zod";

const RUN_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";
const RUN_ID_LENGTH = 12;

export const RUN_ID_PATTERN = /^run-[0-9a-z]{12}$/;
/** Variation ids are chosen by agents too, so they get a looser but still glob-free form. */
export const VARIATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const runIdSchema = z
  .string()
  .regex(RUN_ID_PATTERN, "must look like run-xxxxxxxxxxxx (12 lowercase letters or digits)");
export const variationIdSchema = z
  .string()
  .regex(VARIATION_ID_PATTERN, "must be 1-64 letters, digits, '_' or '-'");

export function isRunId(value: string): boolean {
  return RUN_ID_PATTERN.test(value);
}

/** Random, URL- and glob-safe run id. Uses Web Crypto so it works in Node and the browser. */
export function newRunId(): string {
  const bytes = new Uint8Array(RUN_ID_LENGTH);
  crypto.getRandomValues(bytes);
  let id = "run-";
  // 256 % 36 != 0 gives a slight bias; irrelevant for uniqueness at 36^12 ids.
  for (const byte of bytes) id += RUN_ID_ALPHABET[byte % RUN_ID_ALPHABET.length];
  return id;
}

/** Variation ids the local orchestrator hands out: var-1, var-2, ... */
export function variationIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `var-${i + 1}`);
}
