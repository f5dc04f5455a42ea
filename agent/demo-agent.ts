/**
 * Plays a demo script through a publisher, at a pace scaled by `speed`.
 */
import type { AgentPublisher } from "./publisher";
import { demoScript } from "./demo-script";

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
 * Messages are not awaited: they go to the publisher's outbox, so the agent keeps working while
 * Redis is away; the caller flushes the outbox before exiting.
 */
export async function runDemoAgent(publisher: AgentPublisher, options: DemoAgentOptions): Promise<void> {
  const sleep = options.sleep ?? defaultSleep;
  const scaled = (ms: number) => sleep(ms / options.speed);
  const startedAt = Date.now();
  let tokens = 0;
  let characters = 0;

  void publisher.status("starting");
  let running = false;
  for (const step of demoScript(options.prompt, options.seed)) {
    if (step.kind === "pause") {
      await scaled(step.ms);
    } else if (step.kind === "log") {
      void publisher.log(step.text, step.level);
    } else {
      if (!running) {
        running = true;
        void publisher.status("running");
      }
      await scaled(step.delayMs);
      void publisher.output(step.text);
      tokens += 1;
      characters += step.text.length;
      if (tokens % METRIC_EVERY_TOKENS === 0) void publisher.metric({ tokens, characters });
    }
  }
  void publisher.metric({ tokens, characters, duration_ms: Date.now() - startedAt });
  void publisher.status("completed");
}
