import { describe, expect, it } from "vitest";
import { ansiSegments } from "./ansi";

describe("ANSI colours in log lines", () => {
  it("turns colours, bold and resets into styled segments", () => {
    const line = "\u001b[31merror:\u001b[0m build \u001b[1;32mpassed\u001b[39m in bold\u001b[0m \u001b[44mbg\u001b[49m done";
    expect(ansiSegments(line)).toEqual([
      { text: "error:", color: "rgb(187, 0, 0)" },
      { text: " build " },
      { text: "passed", color: "rgb(0, 187, 0)", bold: true },
      { text: " in bold", bold: true },
      { text: " " },
      { text: "bg", background: "rgb(0, 0, 187)" },
      { text: " done" },
    ]);
  });

  it("leaves plain lines alone, markup included (React renders it as text)", () => {
    expect(ansiSegments("plain <b>text</b>")).toEqual([{ text: "plain <b>text</b>" }]);
  });
});
