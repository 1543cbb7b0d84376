/**
 * The backup checks `tpa test` runs for every cluster with backups: one round trip per backup
 * server (all its clusters in one script), judged by components/barman/health.ts. A backup
 * server that cannot be reached fails every check of the clusters it serves.
 */
import { CHECKS, type CheckDescription, type CheckResult } from '../../checks/evaluate.ts';
import { healthScript, judgeServer } from '../../components/barman/health.ts';
import type { ClusterAccess } from '../../clusterdir/connect.ts';
import { backupTargets, type BackupTarget } from '../backup/barman-client.ts';

const SEPARATOR = '@@tpa-server ';

export const BACKUP_CHECKS: CheckDescription[] = [
  { id: 'barman-check', title: 'barman check all OK' },
  { id: 'backup-recent', title: 'a backup younger than the schedule allows' },
  { id: 'wal-archiving', title: 'WAL archiving current' },
];

// titles for the report tables: the backup checks come after the cluster's own checks
for (const c of BACKUP_CHECKS) if (!CHECKS.some((x) => x.id === c.id)) CHECKS.push(c);

export async function backupChecks(
  access: Pick<ClusterAccess, 'config' | 'inventory' | 'pool'>,
  now: () => Date = () => new Date(),
): Promise<CheckResult[]> {
  if (access.config.backup.mode === 'none') return [];
  let targets: BackupTarget[];
  try {
    targets = backupTargets(access);
  } catch (e) {
    return [{ check: 'barman-check', cluster: '*', status: 'fail', detail: (e as Error).message }];
  }
  const byHost = new Map<string, BackupTarget[]>();
  for (const t of targets) byHost.set(t.host.name, [...(byHost.get(t.host.name) ?? []), t]);
  const schedule = access.config.backup.schedule;
  const perHost = await Promise.all(
    [...byHost.entries()].map(async ([host, list]): Promise<CheckResult[]> => {
      const script = list
        .map((t) => `echo '${SEPARATOR}${t.cluster.name}'\n${healthScript(t.cluster.name)}`)
        .join('\n');
      let stdout: string;
      try {
        const r = await access.pool.forHost(host).exec(script, {
          sudo: true,
          check: false,
          timeoutMs: 120_000,
          step: 'backup checks',
        });
        stdout = r.stdout;
      } catch (e) {
        const detail = `backup server ${host} cannot be reached: ${(e as Error).message.split('\n')[0]}`;
        return list.flatMap((t) =>
          (['barman-check', 'backup-recent', 'wal-archiving'] as const).map((check) => ({
            check,
            cluster: t.cluster.name,
            node: host,
            status: 'fail' as const,
            detail,
          })),
        );
      }
      const parts = new Map<string, string>();
      let current: string | undefined;
      for (const line of stdout.split('\n')) {
        if (line.startsWith(SEPARATOR)) {
          current = line.slice(SEPARATOR.length).trim();
          parts.set(current, '');
        } else if (current !== undefined) parts.set(current, `${parts.get(current)}${line}\n`);
      }
      return list.flatMap((t) =>
        judgeServer(t.cluster.name, parts.get(t.cluster.name) ?? '', schedule, now()).map((r) => ({
          ...r,
          cluster: t.cluster.name,
          node: host,
        })),
      );
    }),
  );
  return perHost.flat();
}
