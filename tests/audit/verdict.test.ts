import { describe, expect, it } from "vitest";
import { verdictOf } from "../../src/audit/reading/verdict.ts";
import type { VerifyReport } from "../../src/audit/verify.ts";

/** The verdict an auditor reads first: what was checked, up to where, and what was not. */

const intact: VerifyReport = {
  ok: true,
  warnings: [],
  entries: 40,
  erased: 0,
  signedSize: 40,
  root: "ab".repeat(32),
};

describe("the verdict in words", () => {
  it("names the key, the entries the signatures cover, and what was not checked", () => {
    const v = verdictOf({
      report: { ...intact, signedSize: 30 },
      keyWords: "the key you gave (om)",
      when: "now",
    });
    expect(v.status).toBe("intact");
    expect(v.headline).toBe("VERIFIED: all 40 entries are intact, signed up to entry 30.");
    expect(v.verified).toContain(
      "The signatures: checkpoints covering entries 1 to 30 are signed by the key you gave (om).",
    );
    expect(v.notVerified).toContain("Entries 31 to 40 are not covered by any signed checkpoint.");
    expect(v.notVerified.some((s) => s.startsWith("Witness cosignatures: not checked"))).toBe(true);
  });

  it("says how far each witness vouches", () => {
    const v = verdictOf({
      report: { ...intact, witnesses: [{ name: "om-oversight", keyId: "00", size: 25 }] },
      keyWords: "k",
      when: "now",
    });
    expect(v.verified).toContain(
      "Witness om-oversight cosigned the log up to entry 25; entries 26 to 40 rest on the operator's key alone.",
    );
  });

  it("says an unsigned log could have been rewritten, and that a bundle's own key proves nothing", () => {
    const unsigned = verdictOf({
      report: { ...intact, signedSize: 0 },
      keyWords: "no key",
      when: "now",
    });
    expect(unsigned.headline).toBe("VERIFIED: all 40 entries are intact (but unsigned).");
    expect(unsigned.notVerified[0]).toMatch(
      /anyone who could edit the log could have rewritten it/,
    );
    const shipped = verdictOf({ report: intact, keyWords: "k", authenticated: false, when: "now" });
    expect(shipped.notVerified[0]).toMatch(/^Whose key that is: it was shipped inside the bundle/);
  });

  it("puts a failure in the headline, with where, and trusts nothing after it", () => {
    const v = verdictOf({
      report: { ...intact, ok: false, failure: { seq: 12, message: "entry 12 was changed" } },
      keyWords: "k",
      when: "now",
    });
    expect(v.status).toBe("failed");
    expect(v.headline).toBe(
      "NOT VERIFIED: the log fails at entry 12: entry 12 was changed. Nothing from that point on can be trusted.",
    );
    expect(v.verified[0]).toMatch(/^Entries 1 to 11 were read before the failure/);
  });

  it("lists the bundle's files as checked or not", () => {
    const v = verdictOf({
      report: intact,
      keyWords: "k",
      when: "now",
      files: [
        {
          file: "report.html",
          checked: true,
          detail: "rebuilt from the verified entries: identical",
        },
        { file: "entries.csv", checked: false, detail: "not checked: made in bundle format 2" },
      ],
    });
    expect(v.verified).toContain("report.html: rebuilt from the verified entries: identical.");
    expect(v.notVerified).toContain("entries.csv: not checked: made in bundle format 2.");
  });
});
