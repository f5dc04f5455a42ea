import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import ReactMarkdown from "react-markdown";
import remarkGfm from "remark-gfm";
import { describe, expect, it } from "vitest";
import { REHYPE_PLUGINS, REMARK_PLUGINS } from "./markdown-plugins";

const render = (markdown: string, remarkPlugins: typeof REMARK_PLUGINS | [typeof remarkGfm]) =>
  renderToStaticMarkup(createElement(ReactMarkdown, { remarkPlugins, rehypePlugins: REHYPE_PLUGINS }, markdown));

const GFM_SAMPLES = {
  table: "| a | b |\n| :- | -: |\n| 1 | **2** |\n",
  strikethrough: "~~gone~~ and ~kept~\n",
  tasks: "- [ ] todo\n- [x] done\n",
  autolinks: "See www.example.com and https://example.com/x?y=1, or mail me@example.com.\n",
  footnote: "Text[^1].\n\n[^1]: The note.\n",
  code: "```ts\nconst a: number = 1;\n```\n",
  html: "<b>not html</b> <script>alert(1)</script>\n",
  link: "[bad](javascript:alert(1)) and [good](https://example.com)\n",
};

describe("REMARK_PLUGINS", () => {
  it.each(Object.entries(GFM_SAMPLES))("renders %s exactly as remark-gfm does", (_name, markdown) => {
    expect(render(markdown, REMARK_PLUGINS)).toBe(render(markdown, [remarkGfm]));
  });

  it("renders GFM (not plain CommonMark), and the same again on every render", () => {
    const table = render(GFM_SAMPLES.table, REMARK_PLUGINS);
    expect(table).toContain("<table>");
    for (let i = 0; i < 3; i++) expect(render(GFM_SAMPLES.table, REMARK_PLUGINS)).toBe(table);
    expect(render(GFM_SAMPLES.strikethrough, REMARK_PLUGINS)).toContain("<del>gone</del>");
  });
});
