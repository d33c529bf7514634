import { describe, expect, it } from "vitest";
import { parseExposition, sampleValue } from "./exposition-parser";

const good = [
  "# HELP a_total Things, with a \\\\ backslash\\nand a second line.",
  "# TYPE a_total counter",
  'a_total{k="x",j="q\\"uote\\\\ back\\nline"} 3',
  "a_total 1.5e3",
  "# a plain comment",
  "# TYPE g gauge",
  "# HELP g A gauge.",
  "g -2",
  "g{n=\"1\"} NaN",
  "g{n=\"2\"} +Inf 1700000000000",
  "",
].join("\n");

describe("the strict exposition parser (test support)", () => {
  it("reads HELP, TYPE, labels with escapes, values and timestamps", () => {
    const f = parseExposition(good);
    expect(f.get("a_total")).toEqual({
      name: "a_total",
      help: "Things, with a \\ backslash\nand a second line.",
      type: "counter",
      samples: [
        { labels: { k: "x", j: 'q"uote\\ back\nline' }, value: 3 },
        { labels: {}, value: 1500 },
      ],
    });
    expect(f.get("g")?.type).toBe("gauge");
    expect(sampleValue(f, "g", { n: "2" })).toBe(Infinity);
    expect(sampleValue(f, "g")).toBe(-2);
    expect(sampleValue(f, "g", { n: "3" })).toBeUndefined();
  });

  const bad: [string, string, RegExp][] = [
    ["duplicate HELP", "# HELP x_total a\n# HELP x_total b\n# TYPE x_total counter\nx_total 1\n", /second HELP/],
    ["duplicate TYPE", "# HELP x_total a\n# TYPE x_total counter\n# TYPE x_total counter\nx_total 1\n", /second TYPE/],
    ["bad metric name", "# HELP 1x a\n", /bad metric name/],
    ["bad sample name", "# HELP x a\n# TYPE x gauge\nx-y 1\n", /bad metric name|before its TYPE/],
    ["bad label name", '# HELP x a\n# TYPE x gauge\nx{1a="v"} 1\n', /bad label name/],
    ["bad escape in a label value", '# HELP x a\n# TYPE x gauge\nx{a="\\t"} 1\n', /bad escape/],
    ["bad escape in HELP", "# HELP x a \\t b\n# TYPE x gauge\nx 1\n", /bad escape/],
    ["unterminated label value", '# HELP x a\n# TYPE x gauge\nx{a="v} 1\n', /unterminated/],
    ["sample before TYPE", "# HELP x a\nx 1\n# TYPE x gauge\n", /before its TYPE/],
    ["sample without HELP", "# TYPE x gauge\nx 1\n", /without HELP/],
    ["TYPE after samples", "# HELP x a\n# TYPE x gauge\nx 1\n# TYPE x gauge\n", /after its samples/],
    ["non-numeric value", "# HELP x a\n# TYPE x gauge\nx 1,5\n", /not a number/],
    ["empty value", "# HELP x a\n# TYPE x gauge\nx \n", /one space/],
    ["two spaces", "# HELP x a\n# TYPE x gauge\nx  1\n", /one space/],
    ["counter without _total", "# HELP x a\n# TYPE x counter\nx 1\n", /does not end in _total/],
    ["negative counter", "# HELP x_total a\n# TYPE x_total counter\nx_total -1\n", /counter x_total is -1/],
    ["duplicate series", '# HELP x a\n# TYPE x gauge\nx{a="1",b="2"} 1\nx{b="2",a="1"} 2\n', /twice/],
    ["duplicate label", '# HELP x a\n# TYPE x gauge\nx{a="1",a="2"} 1\n', /label a twice/],
    ["samples not contiguous", "# HELP x a\n# TYPE x gauge\n# HELP y a\n# TYPE y gauge\nx 1\ny 1\nx{a=\"b\"} 1\n", /not contiguous/],
    ["unknown type", "# HELP x a\n# TYPE x meter\n", /bad TYPE/],
    ["HELP without TYPE", "# HELP x a\n", /no TYPE/],
    ["no final line feed", "# HELP x a\n# TYPE x gauge\nx 1", /line feed/],
    ["bad timestamp", "# HELP x a\n# TYPE x gauge\nx 1 1.5\n", /timestamp/],
  ];
  it.each(bad)("rejects %s", (_what, text, why) => {
    expect(() => parseExposition(text)).toThrow(why);
  });
});
