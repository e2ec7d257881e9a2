import { describe, expect, it } from "vitest";
import { warnAction } from "../../src/actions/warn.ts";

/** What an operator types after `/warn <alias>`, as the command form reads it. */
const parse = (text: string) =>
  warnAction.command?.parse({ words: text.split(" ").filter(Boolean) });

describe("/warn's words", () => {
  it("takes pin and all-topics at the end, in either order", () => {
    expect(parse("trade pin all-topics")).toEqual({
      template: "trade",
      pin: true,
      allTopics: true,
    });
    expect(parse("trade all-topics pin")).toEqual({
      template: "trade",
      pin: true,
      allTopics: true,
    });
    expect(parse("niet verkopen hier pin")).toEqual({ html: "niet verkopen hier", pin: true });
  });

  it("refuses a flag given twice or typed before the warning, rather than post it as text", () => {
    expect(() => parse("hello pin pin")).toThrow('"pin" is given twice');
    expect(() => parse("all-topics trade")).toThrow(
      '"all-topics" goes after the warning, not before it',
    );
    expect(() => parse("pin niet verkopen")).toThrow('"pin" goes after the warning');
  });
});
