import { describe, expect, it } from "vitest";
import { splitMarkdown } from "./markdown-stream";

describe("splitMarkdown", () => {
  it("finishes a block once the next one has started, and keeps the last one open", () => {
    const text = "# Plan\n\nFirst paragraph\nstill first.\n\n- one\n- tw";
    const parts = splitMarkdown(text);
    expect(parts.stable).toEqual(["# Plan\n\n", "First paragraph\nstill first.\n\n"]);
    expect(parts.tail).toBe("- one\n- tw");
    expect(parts.stable.join("") + parts.tail).toBe(text);
  });

  it("does not cut inside a code fence, blank lines included, and closes an open fence for rendering", () => {
    const text = "Intro\n\n```ts\nconst a = 1;\n\nconst b = 2;\n";
    const parts = splitMarkdown(text);
    expect(parts.stable).toEqual(["Intro\n\n"]);
    expect(parts.tail).toBe("```ts\nconst a = 1;\n\nconst b = 2;\n");
    expect(parts.renderTail).toBe("```ts\nconst a = 1;\n\nconst b = 2;\n```\n");
  });

  it("after the fence closes, the code block is finished like any other", () => {
    const text = "```\ncode\n```\n\nAfter";
    expect(splitMarkdown(text)).toEqual({ stable: ["```\ncode\n```\n\n"], tail: "After", renderTail: "After" });
  });

  it("only a matching fence closes one (a ~~~ inside ``` is code), and a half-written last line ends nothing", () => {
    const open = splitMarkdown("Text\n\n````md\n~~~\n```\n");
    expect(open.renderTail).toBe("````md\n~~~\n```\n````\n");
    expect(splitMarkdown("Text\n\nMore").stable).toEqual(["Text\n\n"]);
    expect(splitMarkdown("Text\n").stable).toEqual([]);
    expect(splitMarkdown("")).toEqual({ stable: [], tail: "", renderTail: "" });
  });

  it("gives the same pieces whatever the chunks the text arrived in (streaming is append-only)", () => {
    const text = "# T\n\nA para.\n\n```js\nx()\n\ny()\n```\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\nEnd.\n";
    const final = splitMarkdown(text);
    for (let cut = 1; cut < text.length; cut++) {
      const partial = splitMarkdown(text.slice(0, cut));
      // Blocks finished early are finished for good: a prefix of the final list.
      expect(final.stable.slice(0, partial.stable.length)).toEqual(partial.stable);
    }
  });
});
