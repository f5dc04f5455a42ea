/**
 * Server-side ingest: turn what agents append to their runs' inboxes (lib/inbox.ts) into
 * published messages and heartbeats. Agents on Redis cannot run the publish script themselves
 * (a script needs read and write permission on every key it touches); this is where their
 * messages are checked and published instead.
 *
 * Every app instance ingests every inbox, each with its own cursor per run, in inbox order,
 * and nothing is lost if one of them is down. Two instances publishing the same entries is
 * safe: the publish script skips a sequence its variation already has, so the second
 * instance's publish is a no-op, and since each instance goes in inbox order neither can put
 * sequence 6 before 5. (Consumer groups would hand entries 5 and 6 to different instances,
 * which could then publish them in either order.) The cost is one no-op script call per
 * message per extra instance.
 *
 * Wake-ups on `inbox:<run_id>` say when to read; they are coalesced to one read per run per
 * tick. A sweep over the newest runs every few seconds (and after the subscription had a gap)
 * reads what a missed wake-up left behind: an instance that restarted, a Redis reconnect.
 * Entries are trimmed once published, so an idle inbox is empty and the sweep's read is cheap.
 */
import "server-only";
import { channels, keys, parseInboxWake } from "./channels";
import { renewHeartbeat } from "./control";
import { recordDeadLetter, type DeadLetter } from "./dead-letter";
import { serverEnv } from "./env";
import type { AgentMessage } from "./events";
import { isRunId } from "./ids";
import { parseInboxEntry, type InboxEntry } from "./inbox";
import { parseJson } from "./json";
import { retryDelay } from "./backoff";
import { componentLogger, runLogger } from "./log";
import { checkRawMessage } from "./message-check";
import { publishMessage, UnknownRunError } from "./publish";
import { isRedisUnavailable } from "./errors";
import { getRedis, type RedisClient } from "./redis";
import { getSubscriber, type Unsubscribe } from "./subscriber";

const PAGE_SIZE = 100;
/** Subscribing to wake-ups again after Redis went away: 250 ms doubling to the sweep's period. */
const RESUBSCRIBE_POLICY = { baseMs: 250, capMs: 3_000, attempts: Infinity };
const SWEEP_INTERVAL_MS = 3_000;
/** Runs the sweep looks at, newest first (as the runs metric does). */
const SWEEP_RUNS = 1_000;

/** The id just after `id`: XTRIM MINID keeps `id` itself otherwise. */
function nextStreamId(id: string): string {
  const [ms = "0", seq = "0"] = id.split("-");
  return `${ms}-${BigInt(seq) + BigInt(1)}`;
}

/** Where a warning about a rejected message goes: the variation and sequence it spent. */
type Slot = { variationId: string; sequence: number };

class Ingestor {
  /** Per run: the last inbox entry handled by this process. */
  private readonly cursors = new Map<string, string>();
  /** Per run: its variation ids (fixed when it is created). */
  private readonly variations = new Map<string, Set<string>>();
  private readonly scheduled = new Set<string>();
  private readonly running = new Set<string>();
  private readonly again = new Set<string>();
  private tick: NodeJS.Immediate | null = null;
  private sweepTimer: NodeJS.Timeout | undefined;
  private unsubscribe: Unsubscribe | null = null;
  private resubscribeTimer: NodeJS.Timeout | undefined;
  stopped = false;

  constructor(private readonly redis: RedisClient) {}

  async start(): Promise<void> {
    // closeRedis() (tests, shutdown) ends this client: stop, so the next run starts afresh.
    // Its subscriber connection is closed with it: nothing to unsubscribe from.
    this.redis.once("end", () => {
      this.unsubscribe = null;
      void this.stop();
    });
    this.sweepTimer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
    await this.subscribeWakes(1);
    void this.sweep();
  }

  /**
   * Subscribe to the wake-ups; after a failure, or once the subscription is lost (Redis went
   * away), again with a backoff until it works. Meanwhile the periodic sweep still ingests, and
   * one right after subscribing again picks up what arrived while nobody listened.
   */
  private async subscribeWakes(attempt: number): Promise<void> {
    if (this.stopped) return;
    try {
      const unsubscribe = await getSubscriber().subscribe(channels.allInboxWakes(), this.onWake, {
        // Not at once: the connection has just closed (or is being closed for good, which stops us).
        onGap: () => {
          this.unsubscribe = null;
          this.subscribeLater(2);
        },
      });
      if (this.stopped) return void unsubscribe();
      this.unsubscribe = unsubscribe;
      if (attempt > 1) void this.sweep();
    } catch (error) {
      if (attempt === 1 || attempt % 10 === 0) componentLogger("ingest").warn({ err: error, attempt }, "subscribing to inbox wake-ups failed; retrying, and the periodic sweep still ingests");
      this.subscribeLater(attempt + 1);
    }
  }

  private subscribeLater(attempt: number): void {
    clearTimeout(this.resubscribeTimer);
    this.resubscribeTimer = setTimeout(() => void this.subscribeWakes(attempt), retryDelay(RESUBSCRIBE_POLICY, attempt - 1));
    this.resubscribeTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    clearTimeout(this.resubscribeTimer);
    if (this.tick) clearImmediate(this.tick);
    await this.unsubscribe?.();
  }

  private onWake = (channel: string): void => {
    const runId = parseInboxWake(channel);
    if (runId && isRunId(runId)) this.schedule(runId);
  };

  private async sweep(): Promise<void> {
    if (this.stopped) return;
    const ids = await this.redis.zrevrange(keys.runsIndex(), 0, SWEEP_RUNS - 1).catch(() => [] as string[]);
    for (const id of ids) this.schedule(id);
  }

  /** Many wake-ups of one run within a tick make one read. */
  private schedule(runId: string): void {
    this.scheduled.add(runId);
    this.tick ??= setImmediate(() => {
      this.tick = null;
      for (const id of this.scheduled) this.ingest(id);
      this.scheduled.clear();
    });
  }

  private ingest(runId: string): void {
    if (this.stopped) return;
    if (this.running.has(runId)) {
      this.again.add(runId);
      return;
    }
    this.running.add(runId);
    void this.drain(runId)
      .catch((error: Error) => runLogger(runId).warn({ err: error }, "ingesting the run's inbox failed; retrying on the next wake-up or sweep"))
      .finally(() => {
        this.running.delete(runId);
        if (this.again.delete(runId)) this.ingest(runId);
      });
  }

  /** Ingest the run's inbox now (not on the next tick) and resolve once it is done. */
  async ingestNow(runId: string): Promise<void> {
    while (this.running.has(runId)) await new Promise((resolve) => setTimeout(resolve, 10));
    this.running.add(runId);
    try {
      await this.drain(runId);
    } finally {
      this.running.delete(runId);
      if (this.again.delete(runId)) this.ingest(runId);
    }
  }

  /** Handle the inbox's entries after this process's cursor, in order, and trim them away. */
  private async drain(runId: string): Promise<void> {
    const inbox = keys.runInbox(runId);
    for (;;) {
      const after = this.cursors.get(runId);
      const page = await this.redis.xrange(inbox, after ? `(${after}` : "-", "+", "COUNT", PAGE_SIZE);
      if (page.length === 0) return;
      const variations = await this.variationsOf(runId);
      if (!variations) return this.forget(runId); // expired: nobody can publish to it
      for (const [id, fields] of page) {
        // Redis away or the run expiring mid-page: throw, and leave the cursor before this entry.
        await this.handle(runId, variations, id, parseInboxEntry(fields), fields);
        this.cursors.set(runId, id);
      }
      await this.redis.xtrim(inbox, "MINID", nextStreamId(page[page.length - 1]![0]));
      if (page.length < PAGE_SIZE) return;
    }
  }

  private forget(runId: string): void {
    this.cursors.delete(runId);
    this.variations.delete(runId);
  }

  private async variationsOf(runId: string): Promise<Set<string> | null> {
    const known = this.variations.get(runId);
    if (known) return known;
    const list = await this.redis.hget(keys.runMeta(runId), "variations");
    if (!list) return null;
    const variations = new Set(list.split(","));
    this.variations.set(runId, variations);
    return variations;
  }

  private async handle(runId: string, variations: Set<string>, id: string, entry: InboxEntry, fields: string[]): Promise<void> {
    try {
      if (entry.kind === "malformed") {
        await this.reject(runId, { reason: "malformed_entry", detail: "an inbox entry with neither `m` (a message) nor `beat` (a heartbeat)", raw: JSON.stringify(fields), source: "inbox", entryId: id }, null);
      } else if (entry.kind === "beat") {
        await this.beat(runId, variations, id, entry);
      } else {
        const verdict = checkRawMessage(entry.raw, { runId, variations, maxBytes: serverEnv().MAX_MESSAGE_BYTES });
        const claimed = entry.variationId !== null && entry.sequence !== null && variations.has(entry.variationId) ? { variationId: entry.variationId, sequence: entry.sequence } : null;
        if (verdict.ok && claimed && (claimed.variationId !== verdict.message.variation_id || claimed.sequence !== verdict.message.sequence)) {
          await this.reject(runId, { reason: "mismatch", detail: `the entry says ${claimed.variationId} #${claimed.sequence}, the message ${verdict.message.variation_id} #${verdict.message.sequence}`, raw: entry.raw, variationId: claimed.variationId, source: "inbox", entryId: id }, claimed);
        } else if (verdict.ok) {
          await publishMessage(this.redis, verdict.message);
        } else {
          await this.reject(runId, { reason: verdict.reason, detail: verdict.detail, raw: entry.raw, variationId: claimed?.variationId ?? entry.variationId, source: "inbox", entryId: id }, claimed ?? slotOf(entry.raw, runId, variations));
        }
      }
    } catch (error) {
      if (error instanceof UnknownRunError) {
        this.forget(runId); // the run expired under us: its inbox goes with it
        return;
      }
      // Redis away: stop here, the entry is read again once it is back. Anything else is this
      // entry's fault, and must not stop the run's ingest for good: dead-letter it, go on.
      if (isRedisUnavailable(error)) throw error;
      const detail = `could not be handled: ${(error as Error).message}`;
      await recordDeadLetter(this.redis, runId, { reason: "invalid", detail, raw: JSON.stringify(fields).slice(0, 4096), source: "inbox", entryId: id }).catch((failure: unknown) => {
        if (isRedisUnavailable(failure)) throw failure;
        runLogger(runId).error({ err: failure, entry_id: id }, "an inbox entry could be neither handled nor dead-lettered; skipped");
      });
    }
  }

  private async beat(runId: string, variations: Set<string>, id: string, entry: Extract<InboxEntry, { kind: "beat" }>): Promise<void> {
    if (!variations.has(entry.variationId)) {
      await this.reject(runId, { reason: "unknown_variation", detail: `a heartbeat for ${entry.variationId}, which run ${runId} does not have`, raw: entry.variationId, source: "inbox", entryId: id }, null);
      return;
    }
    // The entry id says when Redis took the beat; one older than the TTL (read late, after a
    // restart) says nothing about now and must not make a dead agent look alive.
    const at = new Date(Number(id.split("-")[0]));
    // An agent may choose the entry id (XADD with an explicit id): one from the future or out
    // of Date's range says nothing either.
    if (!Number.isFinite(at.getTime()) || at.getTime() > Date.now() + 60_000) return;
    if (!entry.gone && Date.now() - at.getTime() > serverEnv().AGENT_HEARTBEAT_TTL_SECONDS * 1000) return;
    await renewHeartbeat(runId, entry.variationId, at, entry.gone);
  }

  /**
   * Dead-letter a message and, when its slot is known, tell the run's viewers in its place.
   * The warning takes the sequence number the agent spent on the rejected message, and only
   * if that is the variation's next one: so it steals no number the agent will use next (whose
   * message the script would then drop as a retry), and a bogus huge `s` cannot make the
   * script skip the agent's real messages. It is published by whichever instance gets there
   * first; the script makes the others' attempts no-ops.
   */
  private async reject(runId: string, letter: DeadLetter, slot: Slot | null): Promise<void> {
    await recordDeadLetter(this.redis, runId, letter);
    if (!slot) return;
    const last = Number((await this.redis.hget(keys.runSequences(runId), slot.variationId)) ?? 0);
    if (slot.sequence !== last + 1) return;
    await publishMessage(this.redis, warning(runId, slot, letter));
  }
}

/** The slot a rejected message's own JSON claims, if it is one of this run's. */
function slotOf(raw: string, runId: string, variations: Set<string>): Slot | null {
  if (Buffer.byteLength(raw) > serverEnv().MAX_MESSAGE_BYTES * 4) return null; // not worth parsing
  const json = parseJson(raw) as { run_id?: unknown; variation_id?: unknown; sequence?: unknown } | null | undefined;
  if (typeof json !== "object" || json === null || (json.run_id !== undefined && json.run_id !== runId)) return null;
  const { variation_id: variationId, sequence } = json;
  if (typeof variationId !== "string" || !variations.has(variationId) || typeof sequence !== "number" || !Number.isSafeInteger(sequence) || sequence < 1) return null;
  return { variationId, sequence };
}

function warning(runId: string, slot: Slot, letter: DeadLetter): AgentMessage {
  return {
    type: "log",
    content: `Runwatch rejected this agent's message #${slot.sequence} (${letter.reason}: ${letter.detail.slice(0, 300)}); it is kept in the run's dead-letter stream${letter.entryId ? ` as ${letter.entryId}` : ""}.`,
    metadata: { level: "warn", source: "runwatch", reason: letter.reason, ...(letter.entryId ? { dead_letter_id: letter.entryId } : {}) },
    run_id: runId,
    variation_id: slot.variationId,
    sequence: slot.sequence,
    timestamp: new Date().toISOString(),
  };
}

const globalForIngest = globalThis as unknown as { runwatchIngestor?: Ingestor };

/** Start this process's ingestor, once (instrumentation-node.ts; createRun for processes without it). */
export function startIngest(): void {
  const current = globalForIngest.runwatchIngestor;
  if (current && !current.stopped) return;
  const ingestor = new Ingestor(getRedis());
  globalForIngest.runwatchIngestor = ingestor;
  void ingestor.start();
}

/**
 * Publish whatever the run's inbox holds, before answering. For the orchestrators: an agent
 * that exited has its final status in the inbox, maybe not yet published, and must not be
 * reported as having ended without one.
 */
export async function ingestRunNow(runId: string): Promise<void> {
  startIngest();
  await globalForIngest.runwatchIngestor!.ingestNow(runId);
}

/** For tests: stop ingesting (as an app instance that is down would). */
export async function stopIngest(): Promise<void> {
  const current = globalForIngest.runwatchIngestor;
  globalForIngest.runwatchIngestor = undefined;
  await current?.stop();
}
