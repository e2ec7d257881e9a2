import { readdirSync, readFileSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { z } from "zod";
import type { Verifier } from "../../audit/checkpoint.ts";
import type { AuditLog } from "../../audit/record.ts";
import { READING_CSS, READING_SCRIPT } from "../../audit/report.ts";
import { SHIPPED_SCENARIOS } from "../../scenario/definition/library.ts";
import { BundleOpenError, readBundle } from "./bundle-reading.ts";
import { ConsultRefused, readCase, tokenMatches } from "./case-reading.ts";
import { type Catalogue, catalogueOf, problemsOf, worldFileOf } from "./catalogue.ts";
import { page } from "./pages.ts";
import { RehearsalSession, type SessionView, SPEEDS } from "./rehearsal-session.ts";

/**
 * `warden console`'s web server: the pages, the files they load (all served
 * from here: the console works offline, with no CDN and no build step), and
 * the JSON API under them, which gives other tools the same data the pages
 * show. Rehearsals are simulated and open to whoever reaches the port (it
 * binds to loopback unless told otherwise); a live case needs the one-time
 * token, a role in the case and a justification, and is logged as `consult`.
 */
export interface ConsoleOptions {
  /** The one-time token printed at start; live-case reads must present it. */
  token: string;
  dataDir: string;
  scenariosDir?: string;
  logger: Logger;
  redisUrl?: string;
  redisConnectTimeoutMs?: number;
  auditKeyPath?: string;
  /** The case store for live reads; absent: the console reads no live case. */
  openStore?(): Promise<{ redis: Redis; audit: AuditLog; verifiers?: readonly Verifier[] }>;
  /** Rehearsals playing at once (each has its own simulator and bot). */
  maxRunning?: number;
}

const PUBLIC = new URL("./public/", import.meta.url);
const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** The files pages load, read once: the console's own, the reading shared with report.html, and `visible`. */
function assets(): Map<string, { type: string; body: string }> {
  const files = new Map<string, { type: string; body: string }>();
  for (const name of readdirSync(PUBLIC)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { type, body: readFileSync(new URL(name, PUBLIC), "utf8") });
  }
  // READING_SCRIPT begins with `visible`, defined from src/base/html.ts.
  files.set("reading.js", { type: TYPES[".js"] as string, body: READING_SCRIPT });
  files.set("reading.css", { type: TYPES[".css"] as string, body: READING_CSS });
  return files;
}

const LOOPBACK_ADDRESSES = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);
const LOOPBACK_NAMES = new Set(["127.0.0.1", "localhost", "[::1]"]);

const StartBody = z.strictObject({
  scenario: z.string().min(1).max(200),
  world: z.string().min(1).max(200).optional(),
  speed: z.number().int().min(0).max(864_000).optional(),
});
const ControlBody = z.strictObject({
  action: z.enum(["pause", "resume", "step", "speed"]),
  speed: z.number().int().min(0).max(864_000).optional(),
});
const AnswerBody = z.strictObject({
  messageId: z.number().int(),
  data: z.string().min(1).max(64),
});
const ReadCaseBody = z.strictObject({
  userId: z.number().int(),
  justification: z.string().max(500),
});

function bad(reply: FastifyReply, status: number, error: string, extra: object = {}) {
  return reply.code(status).send({ error, ...extra });
}

export async function buildConsole(opts: ConsoleOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  const files = assets();
  const sessions = new Map<string, RehearsalSession>();
  const scenariosDir = opts.scenariosDir ?? SHIPPED_SCENARIOS;
  const catalogue = (): Promise<Catalogue> => catalogueOf(scenariosDir);

  app.addHook("onSend", async (_request, reply, payload) => {
    reply.header(
      "content-security-policy",
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    return payload;
  });
  // A page elsewhere cannot read from here through a name it points at 127.0.0.1 (DNS
  // rebinding): on loopback, only requests addressed to a loopback name are answered.
  app.addHook("onRequest", async (request, reply) => {
    const bound = app.server.address();
    if (!bound || typeof bound !== "object" || !LOOPBACK_ADDRESSES.has(bound.address)) return;
    const host = (request.headers.host ?? "").toLowerCase();
    const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
    if (!LOOPBACK_NAMES.has(name ?? ""))
      return bad(
        reply,
        421,
        "this console answers only requests addressed to 127.0.0.1 or localhost",
      );
  });
  // A page elsewhere cannot make a browser post here: only JSON is accepted, which needs CORS.
  app.addHook("preValidation", async (request, reply) => {
    if (
      request.method === "POST" &&
      !request.headers["content-type"]?.startsWith("application/json")
    )
      return bad(reply, 415, "send JSON (content-type: application/json)");
  });

  app.get<{ Params: { name: string } }>("/assets/:name", async (request, reply) => {
    const file = files.get(request.params.name);
    if (!file) return bad(reply, 404, "no such file");
    return reply.type(file.type).header("cache-control", "no-cache").send(file.body);
  });

  app.get("/favicon.ico", async (_r, reply) => reply.code(204).send());
  // Pages: a shell each; their scripts fetch the API.
  app.get("/", async (_r, reply) => reply.type("text/html").send(page("home", "Warden console")));
  app.get("/rehearsals/:id", async (_r, reply) =>
    reply.type("text/html").send(page("studio", "Rehearsal studio")),
  );
  app.get("/bundle", async (_r, reply) =>
    reply.type("text/html").send(page("auditor", "Audit bundle")),
  );
  app.get("/cases/:id", async (_r, reply) =>
    reply.type("text/html").send(page("case", "Audit log of a case")),
  );

  app.get("/api/catalogue", async () => ({
    ...(await catalogue()),
    speeds: SPEEDS,
    liveCases: opts.openStore !== undefined,
  }));
  app.get<{ Querystring: { scenario?: string; world?: string } }>("/api/lint", async (request) => ({
    problems: await problemsOf(await catalogue(), {
      scenario: request.query.scenario ?? "",
      ...(request.query.world ? { world: request.query.world } : {}),
    }),
  }));

  app.post("/api/rehearsals", async (request, reply) => {
    const parsed = StartBody.safeParse(request.body);
    if (!parsed.success)
      return bad(reply, 400, "expected {scenario, world?, speed?}", {
        issues: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
      });
    const body = parsed.data;
    const cat = await catalogue();
    const problems = await problemsOf(cat, body);
    if (problems.some((p) => p.severity === "error"))
      return bad(reply, 400, "the scenario or the world has errors: fix them first", { problems });
    const running = [...sessions.values()].filter((s) =>
      ["starting", "running", "paused"].includes(s.current().state),
    );
    if (running.length >= (opts.maxRunning ?? 3))
      return bad(reply, 429, "too many rehearsals are playing: wait for one to finish");
    const world = worldFileOf(cat, body.world);
    const session = new RehearsalSession({
      scenario: body.scenario,
      scenariosDir,
      ...(world ? { worldPath: world } : {}),
      ...(body.speed !== undefined ? { speed: body.speed } : {}),
      dataDir: opts.dataDir,
      ...(opts.redisUrl ? { redisUrl: opts.redisUrl } : {}),
      ...(opts.redisConnectTimeoutMs ? { redisConnectTimeoutMs: opts.redisConnectTimeoutMs } : {}),
      ...(opts.auditKeyPath ? { auditKeyPath: opts.auditKeyPath } : {}),
      logger: opts.logger,
    });
    sessions.set(session.id, session);
    void session.run();
    return reply.code(201).send({ id: session.id, page: `/rehearsals/${session.id}` });
  });
  app.get("/api/rehearsals", async () =>
    [...sessions.values()].map((s) => {
      const v = s.current();
      return { id: v.id, scenario: v.scenario, state: v.state, clock: v.clock };
    }),
  );
  app.get<{ Params: { id: string } }>("/api/rehearsals/:id", async (request, reply) => {
    const session = sessions.get(request.params.id);
    if (!session) return bad(reply, 404, "no such rehearsal");
    return session.current();
  });
  app.get<{ Params: { id: string } }>("/api/rehearsals/:id/events", async (request, reply) => {
    const session = sessions.get(request.params.id);
    if (!session) return bad(reply, 404, "no such rehearsal");
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-content-type-options": "nosniff",
    });
    // Every event is the whole view: a tab that reconnects, or a second tab, catches up at once.
    let last = -1;
    let timer: NodeJS.Timeout | undefined;
    const send = (view: SessionView) => {
      if (view.version === last) return;
      last = view.version;
      raw.write(`id: ${view.version}\nevent: view\ndata: ${JSON.stringify(view)}\n\n`);
    };
    const soon = () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        send(session.current());
      }, 100);
    };
    send(session.current());
    const stop = session.watch(soon);
    const beat = setInterval(() => raw.write(": still here\n\n"), 15_000);
    request.raw.on("close", () => {
      stop();
      clearInterval(beat);
      if (timer) clearTimeout(timer);
    });
  });
  app.post<{ Params: { id: string } }>("/api/rehearsals/:id/control", async (request, reply) => {
    const session = sessions.get(request.params.id);
    if (!session) return bad(reply, 404, "no such rehearsal");
    const parsed = ControlBody.safeParse(request.body);
    if (!parsed.success)
      return bad(reply, 400, "expected {action: pause|resume|step|speed, speed?}");
    const { action, speed } = parsed.data;
    if (action === "pause") session.pause();
    else if (action === "resume") session.resume();
    else if (action === "step") session.step();
    else if (speed === undefined) return bad(reply, 400, "speed: simulated seconds per second");
    else session.setSpeed(speed);
    return { state: session.current().state, speed: session.current().speed };
  });
  app.post<{ Params: { id: string } }>("/api/rehearsals/:id/answer", async (request, reply) => {
    const session = sessions.get(request.params.id);
    if (!session) return bad(reply, 404, "no such rehearsal");
    const parsed = AnswerBody.safeParse(request.body);
    if (!parsed.success) return bad(reply, 400, "expected {messageId, data}");
    try {
      await session.answer(parsed.data.messageId, parsed.data.data);
    } catch (err) {
      return bad(reply, 409, (err as Error).message);
    }
    return { answered: true };
  });

  app.get<{ Querystring: { dir?: string; pubkey?: string; witness?: string } }>(
    "/api/bundle",
    async (request, reply) => {
      const { dir, pubkey, witness } = request.query;
      if (!dir) return bad(reply, 400, "give the bundle's folder: /api/bundle?dir=/path/to/bundle");
      try {
        const reading = await readBundle(dir, {
          ...(pubkey ? { pubkey } : {}),
          ...(witness ? { witnessPubkeys: [witness] } : {}),
        });
        // A rehearsal's own bundle: the world's names for the members the log names only by id.
        const played = [...sessions.values()].find(
          (s) =>
            s.current().result?.exportDir &&
            resolve(s.current().result?.exportDir ?? "") === resolve(dir),
        );
        const names = played ? namesOf(played.current()) : undefined;
        return names ? { ...reading, names } : reading;
      } catch (err) {
        if (err instanceof BundleOpenError) return bad(reply, 404, err.message);
        return bad(reply, 400, (err as Error).message);
      }
    },
  );

  app.post<{ Params: { id: string } }>("/api/cases/:id/read", async (request, reply) => {
    const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
    if (!tokenMatches(opts.token, given))
      return bad(reply, 401, "reading a live case needs the token warden console printed at start");
    if (!opts.openStore)
      return bad(reply, 404, "this console reads no live case (no Redis configured)");
    const parsed = ReadCaseBody.safeParse(request.body);
    if (!parsed.success) return bad(reply, 400, "expected {userId, justification}");
    try {
      const store = await opts.openStore();
      return await readCase(store, { caseId: request.params.id, ...parsed.data });
    } catch (err) {
      if (err instanceof ConsultRefused) return bad(reply, err.status, err.message);
      throw err;
    }
  });

  return app;
}

/** Member id → name, as the rehearsal's chats showed them. */
function namesOf(view: SessionView): Record<string, string> | undefined {
  const chats = view.chats;
  if (!chats) return undefined;
  const names: Record<string, string> = {};
  for (const m of chats.group.members) names[m.id] = m.name;
  for (const p of chats.private) names[p.user.id] = p.user.name;
  return names;
}

/** Where the console's own page scripts and styles live (for the README and tests). */
export const PUBLIC_DIR = join(new URL(".", import.meta.url).pathname, "public");
