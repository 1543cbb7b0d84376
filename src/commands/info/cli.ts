/** tpa info DIR: the hand-over sheet of a cluster, in Markdown (or JSON). */
import type { Command } from 'commander';
import { describeSchedule } from '../../model/schedule.ts';
import type { ClusterBackups } from '../../components/barman/overview.ts';
import { clusterInfo, type ClusterInfo, type InfoHost } from './index.ts';
import { eventSink, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

function cell(s: string): string {
  return s.replaceAll('|', '\\|');
}

function table(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

function roleText(h: InfoHost): string {
  const configured = h.upstream ? `${h.role} of ${h.upstream}` : h.role;
  if (h.actualRole === undefined || h.actualRole === h.role) return configured;
  return `${configured} (now: ${h.actualRole})`;
}

function utc(iso: string | undefined): string {
  return iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '-';
}

function onServer(b: ClusterBackups): string {
  if (b.unreachable !== undefined) return `did not answer: ${b.unreachable.split('\n')[0]}`;
  const n = b.now;
  if (!n) return '-';
  const parts = [
    n.retention !== undefined ? `retention ${n.retention}` : undefined,
    n.schedule !== undefined ? `schedule \`${n.schedule}\`` : undefined,
    n.backups !== undefined ? `${n.backups} backup${n.backups === 1 ? '' : 's'}` : undefined,
  ].filter((x) => x !== undefined);
  return parts.length ? parts.join(', ') : '-';
}

/** the Backups section: per cluster as configured and as its backup server has it */
export function renderBackupsMarkdown(info: ClusterInfo): string[] {
  if (info.backups.length === 0 && !info.backupLeftovers?.length) return [];
  const out: string[] = ['## Backups', ''];
  if (info.backups.length) {
    out.push(
      ...table(
        [
          'cluster',
          'backup server',
          'mode',
          'schedule (UTC)',
          'next run',
          'retention',
          'on the backup server now',
        ],
        info.backups.map((b) => [
          b.cluster,
          b.server ?? '-',
          b.mode,
          `\`${b.schedule.cron}\` (${b.schedule.text})`,
          utc(b.schedule.next),
          b.retention,
          onServer(b),
        ]),
      ),
      '',
    );
  }
  const notes = info.backups.flatMap((b) => b.differences.map((d) => `- ${b.cluster}: ${d}`));
  for (const l of info.backupLeftovers ?? []) {
    notes.push(
      `- ${l.host} still has barman server ${l.server}, which no cluster in config.yml uses there: ` +
        `tpa deploy stops its WAL streaming and removes its configuration; its ${l.backups} backup(s) stay in ${l.path}`,
    );
  }
  if (notes.length) out.push(...notes, '');
  return out;
}

export function renderInfoMarkdown(info: ClusterInfo): string {
  const out: string[] = [];
  out.push(`# Cluster group ${info.group}`, '');
  out.push(
    `Platform ${info.platform}, PostgreSQL ${info.postgresVersion}, built and managed with tpa ${info.tpaVersion}.`,
    '',
  );
  for (const c of info.clusters) {
    out.push(
      `- cluster **${c.name}**: ${c.architecture}, failover by ${c.failoverManager}, ${c.durability} replication, pooler ${c.pooler}`,
    );
  }
  out.push(
    `- backups: ${info.backup.mode === 'none' ? 'none' : `${info.backup.mode}, schedule \`${info.backup.schedule}\` (${describeSchedule(info.backup.schedule ?? '')}), retention ${info.backup.retention}`}`,
    `- clients allowed from: ${info.clientCidrs.length ? info.clientCidrs.join(', ') : 'anywhere (TLS and password required)'}`,
    '',
  );

  out.push('## Machines', '');
  out.push(
    ...table(
      ['host', 'cluster', 'role', 'address', 'size'],
      info.hosts.map((h) => [
        h.name,
        h.cluster ?? '-',
        roleText(h),
        h.address,
        `${h.instanceType} (${h.cpus} CPU, ${h.memoryMb} MB, ${h.volumeGb} GB)`,
      ]),
    ),
    '',
  );

  out.push(...renderBackupsMarkdown(info));

  out.push('## Connecting', '');
  out.push(`Superuser: \`${info.superuser}\`. Every connection uses TLS and a password.`, '');
  out.push(
    ...table(
      ['kind', 'node', 'connection string'],
      info.connections.map((c) => [c.kind, c.node, `\`${c.uri}\``]),
    ),
    '',
  );
  if (info.caFile) {
    out.push(
      `To also verify the server, use \`sslmode=verify-full&sslrootcert=...\` with the group's CA certificate: \`${info.caFile}\``,
      '',
    );
  }
  if (info.password !== undefined) {
    out.push(`Password of \`${info.superuser}\`: \`${info.password}\``, '');
  } else {
    out.push(
      `Password of \`${info.superuser}\`: hidden (\`tpa info DIR --show-secrets\`, or \`tpa secrets DIR postgres_password\`). ` +
        '`tpa psql DIR` opens a session without typing it.',
      '',
    );
  }

  out.push('## SSH access', '');
  out.push(
    ...table(
      ['host', 'login', 'key', 'command'],
      info.hosts.map((h) => [
        h.name,
        `${h.ssh.user}@${h.address}:${h.ssh.port}`,
        `\`${h.ssh.keyFile}\``,
        `\`${h.ssh.command}\``,
      ]),
    ),
    '',
  );

  out.push('## Installed versions', '');
  const packages = [...new Set(info.hosts.flatMap((h) => Object.keys(h.packages)))].sort((a, b) =>
    a === 'debian' ? -1 : b === 'debian' ? 1 : a.localeCompare(b),
  );
  if (packages.length === 0) out.push('No host answered.', '');
  else {
    out.push(
      ...table(
        ['package', ...info.hosts.map((h) => h.name)],
        packages.map((p) => [p, ...info.hosts.map((h) => h.packages[p] ?? (h.error ? '?' : '-'))]),
      ),
      '',
    );
  }
  const unreachable = info.hosts.filter((h) => h.error);
  for (const h of unreachable) out.push(`- ${h.name} did not answer: ${h.error!.split('\n')[0]}`);
  if (unreachable.length) out.push('');
  out.push(`tpa ${info.tpaVersion}`);
  return out.join('\n') + '\n';
}

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('info')
    .description('the hand-over sheet: machines, connection strings, SSH access, installed versions')
    .argument('<dir>', 'cluster directory')
    .option('--json', 'the same as JSON')
    .option('--show-secrets', "include the superuser's password")
    .addHelpText(
      'after',
      `
Markdown by default, ready to paste into a ticket or a wiki. The versions are read from the
hosts now (dpkg), so they are the ones actually installed. Backups: per cluster its backup
server, schedule (cron, UTC, in words and its next run) and retention policy, beside what the
backup server runs with now (barman show-server, its cron file); a change of config.yml not
deployed yet shows as a difference. The postgres password is left out unless --show-secrets
is given.

Examples:
  $ tpa info acme
  $ tpa info acme --show-secrets > handover.md && chmod 600 handover.md
  $ tpa info acme --json | jq -r '.connections[0].uri'
  $ tpa info acme --json | jq '.backups[] | {cluster, retention, now: .now.retention, differences}'
`,
    )
    .action(async (dir: string, opts: { json?: boolean; showSecrets?: boolean }) => {
      const json = opts.json === true;
      try {
        const info = await clusterInfo(dir, {
          showSecrets: opts.showSecrets === true,
          ...(json ? {} : { events: eventSink(false) }),
        });
        if (json) printJson(info);
        else process.stdout.write(renderInfoMarkdown(info));
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
