/** A pino destination that keeps each JSON line, parsed, so tests can assert on what was logged. */
export interface CapturedLogs {
  lines: Record<string, unknown>[];
  destination: { write(line: string): void };
}

export function captureLogs(): CapturedLogs {
  const lines: Record<string, unknown>[] = [];
  return { lines, destination: { write: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) } };
}
