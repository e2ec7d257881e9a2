import { z } from "zod";
import { DURATION_PATTERN } from "../../base/duration.ts";

/**
 * The words a scenario is written in, shared by the schema and the action
 * forms: ids, durations, template names, text. Each carries the description
 * an editor shows next to it (through `scenarios/schema.json`).
 */

export const slug = (what: string) =>
  z
    .string()
    .regex(
      /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/,
      `${what} must be a slug: lower-case letters, digits and inner hyphens`,
    );

export const Id = slug("an id").describe("A name other parts of the scenario refer to.");

export const Duration = z
  .string()
  .regex(new RegExp(DURATION_PATTERN), "bad duration")
  .min(2, "bad duration")
  .describe("A duration: 30s, 10m, 2h, 3d, 1w or combined from the largest unit down, like 1d12h.");

export const TemplateRef = slug("a template name").describe(
  "A template defined under `templates:` (or a shipped one: takeover, trade, freeze, release).",
);

export const Text = z.string().min(1).max(4000);
