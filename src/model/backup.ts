/** Backup vocabulary shared by validation and planning: barman retention policies, cron schedules, which server backs up which cluster. */
import cronParser from 'cron-parser';
import type { ClusterConfig, ClusterGroupConfig } from './schema.ts';

export type RetentionPolicy =
  | { kind: 'recovery-window'; count: number; unit: 'DAYS' | 'WEEKS' | 'MONTHS' }
  | { kind: 'redundancy'; count: number };

/** barman's retention_policy syntax (case-insensitive, as barman reads it). */
export function parseRetention(text: string): RetentionPolicy | undefined {
  const t = text.trim().replace(/\s+/g, ' ').toUpperCase();
  const window = /^RECOVERY WINDOW OF ([1-9][0-9]{0,3}) (DAYS|WEEKS|MONTHS)$/.exec(t);
  if (window)
    return {
      kind: 'recovery-window',
      count: Number(window[1]),
      unit: window[2] as 'DAYS' | 'WEEKS' | 'MONTHS',
    };
  const redundancy = /^REDUNDANCY ([1-9][0-9]{0,3})$/.exec(t);
  if (redundancy) return { kind: 'redundancy', count: Number(redundancy[1]) };
  return undefined;
}

/** A classic 5-field cron expression (minute hour day month weekday); undefined when valid, else why not. */
export function cronProblem(text: string): string | undefined {
  const fields = text.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5) {
    return `has ${fields.length} field${fields.length === 1 ? '' : 's'}; a schedule has 5 (minute hour day month weekday)`;
  }
  try {
    cronParser.parseExpression(fields.join(' '));
    return undefined;
  } catch (e) {
    return `is not a valid cron expression: ${(e as Error).message}`;
  }
}

export function barmanServices(config: ClusterGroupConfig): string[] {
  return config.services.filter((s) => s.role === 'barman').map((s) => s.name);
}

/** Is this cluster backed up? Not when the group's backups are off or the cluster says backups: false. */
export function isBackedUp(config: ClusterGroupConfig, cluster: ClusterConfig): boolean {
  return config.backup.mode !== 'none' && cluster.backups !== false;
}

/**
 * The barman service that backs a cluster up: its backup_server, or the group's only barman.
 * undefined when backups are off (for the group or the cluster) or the choice is
 * missing/ambiguous (validation reports those).
 */
export function backupServerOf(config: ClusterGroupConfig, cluster: ClusterConfig): string | undefined {
  if (!isBackedUp(config, cluster)) return undefined;
  const servers = barmanServices(config);
  if (cluster.backup_server !== undefined)
    return servers.includes(cluster.backup_server) ? cluster.backup_server : undefined;
  return servers.length === 1 ? servers[0] : undefined;
}
