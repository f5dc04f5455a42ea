/**
 * Per fault: events published vs delivered to every viewer, duplicates shown, lost, recovery
 * time. Printed as a table and JSON lines; a full run also writes test/faults/results.json and
 * results.md, which the README's "Reliability" section points to.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../../../scripts/lib/system.mjs";

export interface FaultRow {
  fault: string;
  viewers: number;
  /** Agent messages the run's stream took (each agent's printed messages that reached Redis). */
  published: number;
  /** Fewest distinct messages any one viewer received. */
  deliveredMin: number;
  /** Messages shown twice on any viewer, after the page's dedupe by sequence. */
  duplicatesShown: number;
  /** Received more than once on the wire (resumes overlap), before dedupe: expected, harmless. */
  rawDuplicates: number;
  lost: number;
  reconnects: number;
  /** From the end of the fault until every viewer had events again (or the fault's own measure). */
  recoveryMs: number;
  notes: string;
}

const HEADER = ["fault", "viewers", "published", "delivered (min)", "dup shown", "lost", "dup on wire", "reconnects", "recovery", "notes"];

export function formatTable(rows: readonly FaultRow[]): string {
  const cells = rows.map((r) => [r.fault, r.viewers, r.published, r.deliveredMin, r.duplicatesShown, r.lost, r.rawDuplicates, r.reconnects, r.recoveryMs < 1_000 ? `${r.recoveryMs} ms` : `${(r.recoveryMs / 1000).toFixed(1)} s`, r.notes].map(String));
  const widths = HEADER.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(HEADER), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.map(line)].join("\n");
}

export function machine(): string {
  return `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`;
}

export function writeReport(rows: readonly FaultRow[], mode: "quick" | "full"): void {
  const table = formatTable(rows);
  process.stdout.write(`\nfault suite (${mode}):\n${table}\n`);
  for (const row of rows) process.stdout.write(`FAULT_RESULT ${JSON.stringify({ mode, ...row })}\n`);
  const result = { date: new Date().toISOString(), machine: machine(), mode, rows };
  const out = path.join(ROOT, "test-reports");
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, `faults-${mode}.json`), JSON.stringify(result, null, 2));
  if (mode !== "full") return;
  // Only the full suite's numbers are the ones the README quotes.
  fs.writeFileSync(path.join(ROOT, "test", "faults", "results.json"), `${JSON.stringify(result, null, 2)}\n`);
  fs.writeFileSync(
    path.join(ROOT, "test", "faults", "results.md"),
    `# Fault suite: latest full run\n\n\`npm run test:faults\` on ${result.date.slice(0, 10)}, ${result.machine}.\n\n${table}\n`,
  );
}
