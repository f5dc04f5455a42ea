/**
 * Plays a demo script through a publisher, at a pace scaled by `speed`.
 */
import type { AgentControl } from "./control";
import { demoScript } from "./demo-script";
import type { AgentPublisher } from "./publisher";

export interface DemoAgentOptions {
  prompt: string;
  seed: number;
  /** 1 = realistic pace; 10 = ten times faster. */
  speed: number;
  sleep?: (ms: number) => Promise<void>;
}

const METRIC_EVERY_TOKENS = 25;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Plays the script; resolves "completed" at its end, or "stopped" when a stop was asked for
 * (the caller then publishes no final status: AgentControl acknowledges the stop with one).
 * Pause and stop are cooperative: the agent checks before each message it would publish, so
 * nothing follows a `paused` acknowledgement until it is resumed.
 *
 * Messages are not awaited: they go to the publisher's outbox, so the agent keeps working while
 * Redis is away; the caller flushes the outbox before exiting.
 */
export async function runDemoAgent(publisher: AgentPublisher, options: DemoAgentOptions, control?: AgentControl): Promise<"completed" | "stopped"> {
  const sleep = options.sleep ?? defaultSleep;
  const scaled = (ms: number) => sleep(ms / options.speed);
  const startedAt = Date.now();
  let tokens = 0;
  let characters = 0;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  control?.attach({ pause() {}, resume() {}, stop: () => done });
  /** False once a stop was asked for. */
  const proceed = async (): Promise<boolean> => {
    if (!control) return true;
    await control.whilePaused();
    return !control.stopRequested;
  };

  try {
    let running = false;
    for (const step of demoScript(options.prompt, options.seed)) {
      if (step.kind === "pause") {
        await scaled(step.ms);
        continue;
      }
      if (step.kind === "output") await scaled(step.delayMs);
      if (!(await proceed())) return "stopped";
      if (step.kind === "log") {
        void publisher.log(step.text, step.level);
        continue;
      }
      if (!running) {
        running = true;
        void publisher.status("running");
      }
      void publisher.output(step.text);
      tokens += 1;
      characters += step.text.length;
      if (tokens % METRIC_EVERY_TOKENS === 0) void publisher.metric({ tokens, characters });
    }
    if (!(await proceed())) return "stopped";
    void publisher.metric({ tokens, characters, duration_ms: Date.now() - startedAt });
    return "completed";
  } finally {
    finished();
  }
}
