import { Command, Option } from "commander";
import { expireApprovalsOfClosedCase } from "../../actions/approvals.ts";
import {
  addChat,
  addRole,
  closeCase,
  createCase,
  parseRetentionDays,
  parseTelegramId,
  removeRole,
  requireCase,
  setControlRoom,
} from "../../actions/case-changes.ts";
import { DEFAULT_APPROVAL_THRESHOLD } from "../../actions/context.ts";
import { abortRunsOfClosedCase } from "../../scenario/runtime/case-closed.ts";
import {
  type CaseRecord,
  getCase,
  listCases,
  listChats,
  listRoles,
  ROLES,
  type Role,
} from "../../store/cases.ts";
import { confirmOnTerminal, onTerminal } from "../confirm.ts";
import { type CliContext, CliError } from "../context.ts";

/**
 * `warden case …`, `warden operator …`, `warden chat …`, `warden control-room …`:
 * the case registry, managed only from the server. Mutations refuse the
 * embedded Redis default, because a case that vanishes with the process is no case.
 */

type Ctx = () => CliContext;

async function withStore<T>(
  ctx: Ctx,
  durable: boolean,
  fn: (store: Awaited<ReturnType<CliContext["openStore"]>>, c: CliContext) => Promise<T>,
): Promise<T> {
  const c = ctx();
  const store = await c.openStore({ durable });
  return fn(store, c);
}

function registryDeps(store: Awaited<ReturnType<CliContext["openStore"]>>, c: CliContext) {
  return { redis: store.connection.redis, audit: store.audit, actor: c.actor };
}

export function formatCase(record: CaseRecord): string[] {
  return [
    `case ${record.id} (${record.status})`,
    `  title:      ${record.title}`,
    `  authority:  ${record.authority}`,
    `  purpose:    ${record.purpose}`,
    `  retention:  ${record.retentionDays} days`,
    `  approval:   acting on more than ${record.approvalThreshold ?? DEFAULT_APPROVAL_THRESHOLD} members or messages at once needs a supervisor`,
    `  created:    ${record.createdAt} by ${record.createdBy}`,
    ...(record.closedAt ? [`  closed:     ${record.closedAt} by ${record.closedBy}`] : []),
    `  control room: ${record.controlRoom ?? "(none: set one with warden control-room set)"}`,
  ];
}

export function caseCommand(ctx: Ctx): Command {
  const cmd = new Command("case").description("create, list, show and close cases");

  cmd
    .command("create")
    .description("open a new case")
    .argument("<id>", "case id: a slug such as op-fw")
    .requiredOption("--title <title>", "human-readable title")
    .requiredOption("--authority <ref>", "legal basis, e.g. the prosecutor's order number")
    .requiredOption("--purpose <text>", "why the data is processed")
    .requiredOption("--retention-days <n>", "how long collected data is kept, in days")
    .option(
      "--approval-threshold <n>",
      "acting on more members or messages at once needs a supervisor's approval (default 20)",
    )
    .action(
      async (
        id: string,
        opts: {
          title: string;
          authority: string;
          purpose: string;
          retentionDays: string;
          approvalThreshold?: string;
        },
      ) => {
        const retentionDays = parseRetentionDays(opts.retentionDays);
        const approvalThreshold =
          opts.approvalThreshold === undefined ? undefined : Number(opts.approvalThreshold);
        await withStore(ctx, true, async (store, c) => {
          const record = await createCase(registryDeps(store, c), {
            id,
            title: opts.title,
            authority: opts.authority,
            purpose: opts.purpose,
            retentionDays,
            ...(approvalThreshold !== undefined ? { approvalThreshold } : {}),
          });
          c.out(`created case ${record.id}`);
        });
      },
    );

  cmd
    .command("list")
    .description("list every case")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }) => {
      await withStore(ctx, false, async (store, c) => {
        const cases = await listCases(store.connection.redis);
        if (opts.json) return c.out(JSON.stringify(cases));
        if (cases.length === 0) return c.out("no cases yet: create one with `warden case create`");
        for (const r of cases) c.out(`${r.id}\t${r.status}\t${r.authority}\t${r.title}`);
      });
    });

  cmd
    .command("show")
    .description("show a case with its roles, control room and seized chats")
    .argument("<id>", "case id")
    .option("--json", "print JSON")
    .action(async (id: string, opts: { json?: boolean }) => {
      await withStore(ctx, false, async (store, c) => {
        const redis = store.connection.redis;
        const record = await requireCase(redis, id);
        const [roles, chats] = await Promise.all([listRoles(redis, id), listChats(redis, id)]);
        if (opts.json) return c.out(JSON.stringify({ ...record, roles, chats }));
        for (const line of formatCase(record)) c.out(line);
        c.out(`  roles:${roles.length === 0 ? " (none)" : ""}`);
        for (const r of roles) c.out(`    ${r.userId}\t${r.role}\t${r.name}`);
        c.out(`  seized chats:${chats.length === 0 ? " (none)" : ""}`);
        for (const ch of chats) c.out(`    ${ch.alias}\t${ch.chatId}`);
      });
    });

  cmd
    .command("close")
    .description(
      "close a case for good: nothing acts in it any more, its scenario runs are aborted and pending approvals expire",
    )
    .argument("<id>", "case id")
    .option("--yes", "close without asking (required when not run on a terminal)")
    .action(async (id: string, opts: { yes?: boolean }) => {
      await withStore(ctx, true, async (store, c) => {
        const record = await getCase(store.connection.redis, id);
        if (!record) throw new CliError(`unknown case "${id}": warden case list shows the cases`);
        if (record.status !== "open") throw new CliError(`case ${id} is closed already`);
        if (!opts.yes) {
          const what = `Close case ${id} (${record.title}) for good? Nothing will act in it any more: commands, approvals and scenarios stop, and it cannot be reopened. Collected evidence stays until retention ends.`;
          if (!onTerminal())
            throw new CliError(
              `warden case close changes case ${id} for good: run it on a terminal to confirm, or add --yes`,
            );
          if (!(await confirmOnTerminal(what))) {
            c.out(`case ${id} was not closed`);
            return;
          }
        }
        const deps = registryDeps(store, c);
        await closeCase(deps, id);
        const now = () => Date.now();
        const runs = await abortRunsOfClosedCase({ ...deps, now }, id);
        const approvals = await expireApprovalsOfClosedCase(deps, id, c.actor);
        c.out(
          `closed case ${id}: ${runs} scenario run(s) aborted, ${approvals} pending approval(s) expired; nothing acts in it any more, and its evidence is kept until retention ends`,
        );
      });
    });

  return cmd;
}

export function operatorCommand(ctx: Ctx): Command {
  const cmd = new Command("operator").description("grant, revoke and list roles in a case");

  cmd
    .command("add")
    .description("give a Telegram user a role in a case")
    .argument("<case>", "case id")
    .argument("<telegram-user-id>", "the person's numeric Telegram user id")
    .addOption(
      new Option("--role <role>", "what they may do").choices([...ROLES]).makeOptionMandatory(),
    )
    .requiredOption("--name <name>", "who this is, as it should appear in the audit log")
    .action(async (caseId: string, userText: string, opts: { role: Role; name: string }) => {
      const userId = parseTelegramId(userText, "user");
      await withStore(ctx, true, async (store, c) => {
        const grant = await addRole(registryDeps(store, c), caseId, {
          userId,
          role: opts.role,
          name: opts.name,
        });
        c.out(`${grant.name} (${grant.userId}) is now ${grant.role} in case ${caseId}`);
      });
    });

  cmd
    .command("remove")
    .description("revoke a person's role in a case")
    .argument("<case>", "case id")
    .argument("<telegram-user-id>", "numeric Telegram user id")
    .action(async (caseId: string, userText: string) => {
      const userId = parseTelegramId(userText, "user");
      await withStore(ctx, true, async (store, c) => {
        const grant = await removeRole(registryDeps(store, c), caseId, userId);
        c.out(`${grant.name} (${grant.userId}) no longer holds ${grant.role} in case ${caseId}`);
      });
    });

  cmd
    .command("list")
    .description("list the roles in a case")
    .argument("<case>", "case id")
    .action(async (caseId: string) => {
      await withStore(ctx, false, async (store, c) => {
        await requireCase(store.connection.redis, caseId);
        const roles = await listRoles(store.connection.redis, caseId);
        if (roles.length === 0)
          return c.out(`no roles in case ${caseId}: add one with \`warden operator add\``);
        for (const r of roles) c.out(`${r.userId}\t${r.role}\t${r.name}\t${r.grantedAt}`);
      });
    });

  return cmd;
}

export function chatCommand(ctx: Ctx): Command {
  const cmd = new Command("chat").description("register and list seized chats");

  cmd
    .command("add")
    .description("register a chat as seized for a case, under a short alias")
    .argument("<case>", "case id")
    .argument("<chat-id>", "numeric Telegram chat id, e.g. -1001234567890")
    .requiredOption("--alias <alias>", "short name operators use in commands, e.g. fw1")
    .action(async (caseId: string, chatText: string, opts: { alias: string }) => {
      const chatId = parseTelegramId(chatText, "chat");
      await withStore(ctx, true, async (store, c) => {
        const chat = await addChat(registryDeps(store, c), caseId, { chatId, alias: opts.alias });
        c.out(`chat ${chat.chatId} is seized for case ${caseId} as ${chat.alias}`);
      });
    });

  cmd
    .command("list")
    .description("list the seized chats of a case")
    .argument("<case>", "case id")
    .action(async (caseId: string) => {
      await withStore(ctx, false, async (store, c) => {
        await requireCase(store.connection.redis, caseId);
        const chats = await listChats(store.connection.redis, caseId);
        if (chats.length === 0)
          return c.out(`no seized chats in case ${caseId}: add one with \`warden chat add\``);
        for (const ch of chats) c.out(`${ch.alias}\t${ch.chatId}\t${ch.addedAt}`);
      });
    });

  return cmd;
}

export function controlRoomCommand(ctx: Ctx): Command {
  const cmd = new Command("control-room").description(
    "the chat where a case's operators give commands",
  );
  cmd
    .command("set")
    .description("set the control room of a case")
    .argument("<case>", "case id")
    .argument("<chat-id>", "numeric Telegram chat id of the control room")
    .action(async (caseId: string, chatText: string) => {
      const chatId = parseTelegramId(chatText, "chat");
      await withStore(ctx, true, async (store, c) => {
        await setControlRoom(registryDeps(store, c), caseId, chatId);
        c.out(`chat ${chatId} is now the control room of case ${caseId}`);
      });
    });
  return cmd;
}
