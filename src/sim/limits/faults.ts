/**
 * Fault injection: the next N calls of a method (or of any method, with
 * `"*"`) fail with a chosen error, or are answered only after a delay. This is
 * how tests rehearse flood waits, outages and slow networks on demand.
 */
import type { ResponseParameters } from "../errors.ts";

export interface FaultSpec {
  method: string;
  count?: number;
  error_code?: number;
  description?: string;
  parameters?: ResponseParameters;
  latency_ms?: number;
}

export interface Fault {
  error?: { code: number; description: string; parameters?: ResponseParameters };
  latencyMs?: number;
}

interface Rule extends Fault {
  method: string;
  remaining: number;
}

export interface FaultInjector {
  add(spec: FaultSpec): void;
  /** Consumes one use of the first rule matching `method`, if any. */
  take(method: string): Fault | undefined;
  list(): { method: string; remaining: number; error_code?: number; latency_ms?: number }[];
  clear(): void;
}

const DEFAULT_DESCRIPTIONS: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
};

export function createFaultInjector(): FaultInjector {
  let rules: Rule[] = [];
  return {
    add(spec) {
      const code = spec.error_code;
      let parameters = spec.parameters;
      let description = spec.description;
      if (code === 429) {
        const retryAfter = parameters?.retry_after ?? 1;
        parameters = { ...parameters, retry_after: retryAfter };
        description ??= `Too Many Requests: retry after ${retryAfter}`;
      }
      rules.push({
        method: spec.method.toLowerCase(),
        remaining: spec.count ?? 1,
        ...(code === undefined
          ? {}
          : {
              error: {
                code,
                description: description ?? DEFAULT_DESCRIPTIONS[code] ?? "Error",
                ...(parameters ? { parameters } : {}),
              },
            }),
        ...(spec.latency_ms === undefined ? {} : { latencyMs: spec.latency_ms }),
      });
    },
    take(method) {
      const lower = method.toLowerCase();
      const rule = rules.find((r) => r.remaining > 0 && (r.method === lower || r.method === "*"));
      if (!rule) return undefined;
      rule.remaining -= 1;
      rules = rules.filter((r) => r.remaining > 0);
      return {
        ...(rule.error ? { error: rule.error } : {}),
        ...(rule.latencyMs ? { latencyMs: rule.latencyMs } : {}),
      };
    },
    list() {
      return rules.map((r) => ({
        method: r.method,
        remaining: r.remaining,
        ...(r.error ? { error_code: r.error.code } : {}),
        ...(r.latencyMs ? { latency_ms: r.latencyMs } : {}),
      }));
    },
    clear() {
      rules = [];
    },
  };
}
