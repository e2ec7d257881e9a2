import { randomBytes } from "node:crypto";
import { Command } from "commander";
import { loadSigner, verifierOf } from "../../audit/checkpoint.ts";
import { buildConsole } from "../console/server.ts";
import { type CliContext, CliError, type Store } from "../context.ts";

/**
 * `warden console [--host 127.0.0.1] [--port 8080]`: the browser workspace
 * for scenario authors (the rehearsal studio) and auditors (bundles and,
 * with REDIS_URL, live cases read-only). It serves everything it needs
 * itself, so it works offline, and listens on loopback unless told
 * otherwise. The token it prints is needed to read a live case, with a role
 * in the case; it is new every start and never written anywhere else.
 */
const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export function consoleCommand(ctx: () => CliContext): Command {
  return new Command("console")
    .description("serve the console: the rehearsal studio and the auditor's view, in a browser")
    .option(
      "--host <address>",
      "the address to listen on (loopback unless you say otherwise)",
      "127.0.0.1",
    )
    .option("--port <port>", "the port to listen on (0: any free port)", "8080")
    .action(async (opts: { host: string; port: string }) => {
      const c = ctx();
      const port = Number(opts.port);
      if (!/^\d+$/.test(opts.port) || port > 65_535)
        throw new CliError(`--port ${opts.port} is not a port: give a number from 0 to 65535`);
      const token = randomBytes(24).toString("base64url");
      let store: Promise<Store> | undefined;
      const keyPath = c.config.WARDEN_AUDIT_KEY;
      const app = await buildConsole({
        token,
        dataDir: c.config.WARDEN_DATA_DIR,
        logger: c.logger,
        ...(c.config.REDIS_URL ? { redisUrl: c.config.REDIS_URL } : {}),
        redisConnectTimeoutMs: c.config.REDIS_CONNECT_TIMEOUT * 1000,
        ...(keyPath ? { auditKeyPath: keyPath } : {}),
        ...(c.config.REDIS_URL
          ? {
              async openStore() {
                store ??= c.openStore({ durable: true });
                const s = await store;
                return {
                  redis: s.connection.redis,
                  audit: s.audit,
                  ...(keyPath ? { verifiers: [verifierOf(loadSigner(keyPath))] } : {}),
                };
              },
            }
          : {}),
      });
      const address = await app.listen({ host: opts.host, port }).catch((err: Error) => {
        throw new CliError(`cannot listen on ${opts.host}:${port}: ${err.message}`, 1);
      });
      const bound = app.server.address();
      const url =
        typeof bound === "object" && bound
          ? `http://${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}/`
          : `${address}/`;
      c.out(`Warden console: ${url}`);
      c.out(`token for reading a live case (new each start; keep it to yourself): ${token}`);
      if (!LOOPBACK.has(opts.host))
        c.out(
          `warning: listening on ${opts.host}, not only on this machine: rehearsals and bundles are open to whoever reaches it`,
        );
      if (!c.config.REDIS_URL)
        c.out("live cases: not available (REDIS_URL is not set); rehearsals and bundles are");
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await app.close();
    });
}
