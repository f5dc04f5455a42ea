/**
 * A strict reader of Prometheus' text exposition format (0.0.4), for tests: prom-client only
 * writes it. Every line must be a HELP, a TYPE, another comment, or a sample of a family whose
 * TYPE came first; anything else throws with its line number, so a malformed /api/metrics
 * fails the test rather than being skipped.
 */

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL_NAME = "[a-zA-Z_][a-zA-Z0-9_]*";
// Prometheus reads values with Go's ParseFloat, which takes Inf and NaN in any case (prom-client writes "Nan").
const VALUE = "[-+]?(?:[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?|[iI][nN][fF]|[nN][aA][nN])";
const HELP_LINE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (${VALUE})(?: (-?[0-9]+))?$`);
const LABEL = new RegExp(`^(${LABEL_NAME})="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`);

/** Which family a sample name belongs to: histograms and summaries add suffixes. */
const SUFFIXES: Record<MetricType, string[]> = {
  counter: [""],
  gauge: [""],
  untyped: [""],
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};

function unescape(value: string): string {
  return value.replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
}

function parseLabels(text: string, lineNo: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const match = LABEL.exec(rest);
    if (!match) throw new Error(`line ${lineNo}: bad label set {${text}}`);
    const [whole, name, value] = match as unknown as [string, string, string];
    if (name in labels) throw new Error(`line ${lineNo}: label ${name} repeated`);
    labels[name] = unescape(value);
    rest = rest.slice(whole.length);
    if (rest.startsWith(",")) rest = rest.slice(1);
    else if (rest.length > 0) throw new Error(`line ${lineNo}: expected "," in {${text}}`);
  }
  return labels;
}

function parseValue(text: string): number {
  if (/^[-+]?inf$/i.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return Number.NaN;
  return Number(text);
}

export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const helps = new Map<string, string>();
  let current: MetricFamily | null = null;
  text.split("\n").forEach((line, i) => {
    const lineNo = i + 1;
    if (line === "") return;
    const help = HELP_LINE.exec(line);
    if (help) {
      helps.set(help[1]!, help[2]!);
      return;
    }
    const type = TYPE_LINE.exec(line);
    if (type) {
      const name = type[1]!;
      if (families.has(name)) throw new Error(`line ${lineNo}: TYPE of ${name} given twice`);
      current = { name, type: type[2] as MetricType, help: helps.get(name) ?? "", samples: [] };
      families.set(name, current);
      return;
    }
    if (line.startsWith("#")) return; // a plain comment
    const sample = SAMPLE_LINE.exec(line);
    if (!sample) throw new Error(`line ${lineNo}: not a sample: ${line}`);
    const family: MetricFamily | null = current;
    const name = sample[1]!;
    if (!family || !SUFFIXES[family.type].some((suffix) => `${family.name}${suffix}` === name)) {
      throw new Error(`line ${lineNo}: sample ${name} is not part of the family declared before it`);
    }
    family.samples.push({ name, labels: parseLabels(sample[2] ?? "", lineNo), value: parseValue(sample[3]!) });
  });
  for (const family of families.values()) if (family.type === "histogram") checkHistogram(family);
  return families;
}

/** Buckets are cumulative and the +Inf bucket equals _count, per label set. */
function checkHistogram(family: MetricFamily): void {
  const series = new Map<string, { buckets: number[]; inf?: number; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (sample.name.endsWith("_bucket")) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      if (le === "+Inf") entry.inf = sample.value;
      else entry.buckets.push(sample.value);
    } else if (sample.name.endsWith("_count")) entry.count = sample.value;
  }
  for (const [key, { buckets, inf, count }] of series) {
    const all = [...buckets, inf ?? Number.NaN];
    if (all.some((v, i) => i > 0 && v < all[i - 1]!)) throw new Error(`${family.name}${key}: buckets are not cumulative`);
    if (inf !== count) throw new Error(`${family.name}${key}: +Inf bucket ${inf} differs from _count ${count}`);
  }
}

/** The value of one sample, or undefined when the series is absent. */
export function sampleValue(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const familyName = [...families.keys()].find((family) => name === family || ["_bucket", "_sum", "_count"].some((s) => name === `${family}${s}`));
  const family = familyName ? families.get(familyName) : undefined;
  const matches = (sample: Sample) =>
    sample.name === name &&
    Object.keys(sample.labels).length === Object.keys(labels).length &&
    Object.entries(labels).every(([k, v]) => sample.labels[k] === v);
  return family?.samples.find(matches)?.value;
}
