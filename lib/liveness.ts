/**
 * Is each agent of a run still alive? Agents keep a heartbeat key with a TTL
 * (keys.agentHeartbeat; agents over HTTP have the server renew it while they are connected);
 * a key that lapsed means the agent stopped beating: hung, killed, or cut off.
 *
 * One poll per run per server process however many viewers it has (one MGET: the keys share
 * the run's hash tag), and viewers hear only changes. Not part of a run's history: liveness is
 * about now, so it is never replayed.
 */
import "server-only";
import { keys } from "./channels";
import { serverEnv } from "./env";
import { getRedis } from "./redis";

export interface Liveness {
  variationId: string;
  alive: boolean;
  /** The agent's last beat (what it wrote in the key), when ever seen. */
  lastSeen: string | null;
}

type Listener = (change: Liveness) => void;

interface Watched {
  variationIds: string[];
  createdAt: number;
  listeners: Set<Listener>;
  state: Map<string, Liveness>;
  timer: NodeJS.Timeout;
}

class LivenessMonitor {
  private readonly runs = new Map<string, Watched>();

  /** Calls `listener` with the known state at once, then with every change. Returns a stop function. */
  watch(runId: string, variationIds: string[], createdAt: string, listener: Listener): () => void {
    let run = this.runs.get(runId);
    if (!run) {
      const ttlMs = serverEnv().AGENT_HEARTBEAT_TTL_SECONDS * 1000;
      const created: Watched = {
        variationIds,
        createdAt: Date.parse(createdAt),
        listeners: new Set(),
        state: new Map(),
        timer: setInterval(() => void this.poll(runId, created, ttlMs), Math.max(250, Math.min(ttlMs / 3, 5_000))),
      };
      created.timer.unref();
      this.runs.set(runId, created);
      run = created;
      void this.poll(runId, created, ttlMs);
    }
    for (const known of run.state.values()) listener(known);
    run.listeners.add(listener);
    const watched = run;
    return () => {
      watched.listeners.delete(listener);
      if (watched.listeners.size === 0 && this.runs.get(runId) === watched) {
        clearInterval(watched.timer);
        this.runs.delete(runId);
      }
    };
  }

  private async poll(runId: string, run: Watched, ttlMs: number): Promise<void> {
    let beats: (string | null)[];
    try {
      beats = await getRedis().mget(run.variationIds.map((v) => keys.agentHeartbeat(runId, v)));
    } catch {
      return; // Redis down: we know nothing new; the page already shows the connection trouble
    }
    // An agent that has not beaten yet is starting, not dead, until a whole TTL has passed.
    const young = Date.now() - run.createdAt < ttlMs;
    run.variationIds.forEach((variationId, i) => {
      const beat = beats[i] ?? null;
      const previous = run.state.get(variationId);
      if (beat === null && !previous && young) return;
      const next: Liveness = { variationId, alive: beat !== null, lastSeen: beat ?? previous?.lastSeen ?? null };
      if (previous && previous.alive === next.alive) {
        run.state.set(variationId, next);
        return;
      }
      run.state.set(variationId, next);
      for (const listener of run.listeners) listener(next);
    });
  }
}

const globalForLiveness = globalThis as unknown as { runwatchLiveness?: LivenessMonitor };

export function livenessMonitor(): LivenessMonitor {
  globalForLiveness.runwatchLiveness ??= new LivenessMonitor();
  return globalForLiveness.runwatchLiveness;
}
