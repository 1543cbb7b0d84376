/** Backups: a barman server for every cluster when backups are on, a barman schedule and retention that parse. */
import type { ClusterGroupConfig } from '../schema.ts';
import { backupServerOf, barmanServices, cronProblem, parseRetention } from '../backup.ts';
import { error, warning, type RuleIssue } from './types.ts';

export function backupSchedule(config: ClusterGroupConfig): RuleIssue[] {
  const problem = cronProblem(config.backup.schedule);
  return problem === undefined
    ? []
    : [
        error(
          ['backup', 'schedule'],
          `"${config.backup.schedule}" ${problem}`,
          'e.g. "0 2 * * *" is every day at 02:00',
        ),
      ];
}

export function backupRetention(config: ClusterGroupConfig): RuleIssue[] {
  if (parseRetention(config.backup.retention) !== undefined) return [];
  return [
    error(
      ['backup', 'retention'],
      `"${config.backup.retention}" is not a barman retention policy`,
      'use "RECOVERY WINDOW OF N DAYS|WEEKS|MONTHS" or "REDUNDANCY N"',
    ),
  ];
}

export function backupServers(config: ClusterGroupConfig): RuleIssue[] {
  const mode = config.backup.mode;
  const servers = barmanServices(config);
  const issues: RuleIssue[] = [];
  if (mode === 'none') {
    issues.push(
      warning(
        ['backup', 'mode'],
        'backups are off: a lost cluster cannot be restored',
        'set backup.mode to shared or exclusive',
      ),
    );
    config.clusters.forEach((c, ci) => {
      if (c.backup_server !== undefined) {
        issues.push(
          warning(['clusters', ci, 'backup_server'], 'backup_server is ignored while backup.mode is none'),
        );
      }
    });
    config.services.forEach((s, si) => {
      if (s.role === 'barman')
        issues.push(
          warning(['services', si], `barman service "${s.name}" is unused while backup.mode is none`),
        );
    });
    return issues;
  }
  if (servers.length === 0) {
    return [
      error(
        ['services'],
        `backup.mode is ${mode} but there is no barman service`,
        'add a service { name: backup-1, role: barman }',
      ),
    ];
  }
  config.clusters.forEach((c, ci) => {
    if (c.backups === false) {
      if (c.backup_server !== undefined)
        issues.push(
          warning(['clusters', ci, 'backup_server'], 'backup_server is ignored with backups: false'),
        );
    } else if (c.backup_server !== undefined && !servers.includes(c.backup_server)) {
      issues.push(
        error(
          ['clusters', ci, 'backup_server'],
          `"${c.backup_server}" is not a barman service`,
          `barman services: ${servers.join(', ')}`,
        ),
      );
    } else if (c.backup_server === undefined && servers.length > 1) {
      issues.push(
        error(
          ['clusters', ci, 'backup_server'],
          `cluster "${c.name}" must say which barman service backs it up (there are ${servers.length})`,
          `set backup_server to one of ${servers.join(', ')}`,
        ),
      );
    }
  });

  const clustersOf = new Map<string, number[]>(servers.map((s) => [s, []]));
  config.clusters.forEach((c, ci) => {
    const server = backupServerOf(config, c);
    if (server !== undefined) clustersOf.get(server)!.push(ci);
  });
  const unresolved = config.clusters.some(
    (c) => c.backups !== false && backupServerOf(config, c) === undefined,
  );
  config.services.forEach((s, si) => {
    if (s.role !== 'barman') return;
    const served = clustersOf.get(s.name) ?? [];
    // while some cluster's server is unknown or ambiguous, "serves nothing" would only repeat that error
    if (served.length === 0 && !unresolved) {
      const message = `barman service "${s.name}" backs up no cluster`;
      issues.push(
        mode === 'exclusive'
          ? error(
              ['services', si],
              `${message}; with exclusive backups each barman serves exactly one`,
              "remove it, or name it in a cluster's backup_server",
            )
          : warning(['services', si], message),
      );
    }
    if (mode === 'exclusive') {
      for (const ci of served.slice(1)) {
        const first = config.clusters[served[0]!]!.name;
        issues.push(
          error(
            ['clusters', ci, 'backup_server'],
            `barman service "${s.name}" already backs up cluster "${first}"; exclusive backups give each cluster its own`,
            'add another barman service for this cluster, or use backup.mode shared',
          ),
        );
      }
    }
  });
  return issues;
}
