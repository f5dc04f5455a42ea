/**
 * `tail -f` from the first line: follow a file that another process is appending to, and hand
 * out complete lines as they appear. The file need not exist yet (the agent has not started).
 *
 * fs.watch wakes us at once on most file systems; a slow poll backs it up where it misses
 * events (network file systems, some containers). Reads are serialised so lines stay in order.
 */
import "server-only";
import fs from "node:fs";
import { StringDecoder } from "node:string_decoder";

const POLL_MS = 500;
const CHUNK_BYTES = 64 * 1024;

export interface FollowFileOptions {
  onLine(line: string): void;
  /** A read failed for a reason other than the file not existing yet. Following stops. */
  onError(message: string): void;
  /** Read what the file holds now, call onEnd, and stop (a missing file is then an error). */
  stopAtEnd?: { onEnd(): void };
  pollMs?: number;
}

export function followFile(filePath: string, options: FollowFileOptions): () => void {
  const decoder = new StringDecoder("utf8");
  let position = 0;
  let partial = "";
  let stopped = false;
  let reading = false;
  let again = false;
  let watcher: fs.FSWatcher | null = null;

  const emit = (text: string) => {
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (stopped) return;
      options.onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
    }
  };

  const readNew = async (): Promise<void> => {
    const handle = await fs.promises.open(filePath, "r");
    try {
      const buffer = Buffer.alloc(CHUNK_BYTES);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, position);
        if (stopped || bytesRead === 0) return;
        position += bytesRead;
        emit(decoder.write(buffer.subarray(0, bytesRead)));
      }
    } finally {
      await handle.close();
    }
  };

  const watch = () => {
    if (watcher || stopped) return;
    try {
      watcher = fs.watch(filePath, { persistent: false }, () => void pump());
      watcher.on("error", () => {
        watcher?.close();
        watcher = null; // the poll carries on alone
      });
    } catch {
      // The file vanished between read and watch; the poll will find it again.
    }
  };

  async function pump(): Promise<void> {
    if (stopped) return;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        await readNew();
        if (options.stopAtEnd) {
          if (partial && !stopped) options.onLine(partial); // the writer is gone: its last line is whole
          if (!stopped) {
            stop();
            options.stopAtEnd.onEnd();
          }
          return;
        }
        watch();
      } while (again && !stopped);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== "ENOENT" || options.stopAtEnd) && !stopped) {
        stop();
        options.onError(code === "ENOENT" ? `there is no log at ${filePath}` : `cannot read ${filePath}: ${(error as Error).message}`);
      }
    } finally {
      reading = false;
    }
  }

  // stopAtEnd needs one read only; the poll is for following.
  const timer = options.stopAtEnd ? undefined : setInterval(() => void pump(), options.pollMs ?? POLL_MS);
  void pump();

  function stop(): void {
    stopped = true;
    clearInterval(timer);
    watcher?.close();
    watcher = null;
  }
  return stop;
}
