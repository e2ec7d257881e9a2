import { createServer, request, type Server } from "node:http";
import type { Redis } from "ioredis";
import { partitionOf } from "../../src/bot/intake/queue.ts";
import { intakeKeys, replicaKeys, scenarioKeys } from "../../src/store/keys.ts";

/**
 * For tests with several `warden start` processes on one Redis: who holds
 * which lease (by process id, `<host>-<pid>-<random>`), and a load balancer
 * in front of their webhooks.
 */

/** The pid in a process id. */
export function pidOf(processId: string | null | undefined): number | undefined {
  const m = /-(\d+)-[a-z0-9]+$/.exec(processId ?? "");
  return m ? Number(m[1]) : undefined;
}

/** The pid of the process holding the polling lease, if any. */
export async function pollLeader(redis: Redis): Promise<number | undefined> {
  return pidOf(await redis.hget(replicaKeys.pollLease(), "holder"));
}

/** The pid of the process reading the intake partition of `chatId`'s updates. */
export async function partitionHolder(redis: Redis, chatId: number): Promise<number | undefined> {
  const part = partitionOf({ update_id: 0, message: { chat: { id: chatId } } });
  return pidOf(await redis.hget(intakeKeys.partitionLease(part), "holder"));
}

/** The pids holding the intake partitions, one per partition (undefined: free). */
export async function partitionHolders(
  redis: Redis,
  partitions: number,
): Promise<Array<number | undefined>> {
  const out: Array<number | undefined> = [];
  for (let part = 0; part < partitions; part++)
    out.push(pidOf(await redis.hget(intakeKeys.partitionLease(part), "holder")));
  return out;
}

/** The pid of the process moving a case's scenario runs on. */
export async function caseLeaseHolder(redis: Redis, caseId: string): Promise<number | undefined> {
  return pidOf(await redis.hget(scenarioKeys.lease(caseId), "holder"));
}

/**
 * A round-robin HTTP load balancer on loopback, as in front of several
 * webhooks: each request goes to the next backend; one that refuses the
 * connection (a dead process) is skipped for the next; when none answers,
 * 502 (and Telegram tries again later).
 */
export async function loadBalancer(backends: number[]): Promise<{
  port: number;
  /** How many requests each backend answered. */
  served: Map<number, number>;
  close(): Promise<void>;
}> {
  let next = 0;
  const served = new Map<number, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const start = next++;
      const attempt = (k: number) => {
        if (k >= backends.length) {
          res.writeHead(502).end();
          return;
        }
        const port = backends[(start + k) % backends.length] as number;
        const upstream = request(
          { host: "127.0.0.1", port, method: req.method, path: req.url, headers: req.headers },
          (answer) => {
            served.set(port, (served.get(port) ?? 0) + 1);
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on("error", () => {
          // Refused: the next backend. Cut off mid-answer (it died): the client sees the connection go.
          if (!res.headersSent) attempt(k + 1);
          else res.destroy();
        });
        upstream.end(body);
      };
      attempt(0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
