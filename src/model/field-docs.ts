/**
 * What each config.yml field means, in one place: the JSON Schema's descriptions (editor
 * hovers) and the comments `tpa configure` writes are both taken from here.
 * Keys are field paths with `[]` for "any item of the list".
 */
export const FIELD_DOCS: Record<string, string> = {
  name: 'Name of the cluster group: a lowercase host name label (a-z, 0-9, -).',
  platform:
    'Where the machines come from: lxc (local containers), bare (existing hosts over SSH) or aws (EC2).',
  postgres: 'PostgreSQL for every cluster of the group.',
  'postgres.version': "Major version; must be one the platform's distribution ships (Debian 12: 15).",
  'postgres.package_version':
    'The exact Debian package version of PostgreSQL (server, client, libpq), e.g. 15.18-0+deb12u1 (`apt-cache policy postgresql-15` lists them); default: the newest the mirror has when a node is installed. `tpa upgrade` moves it.',
  'postgres.settings':
    "postgresql.conf settings for every node; they win over tpa's tuning. Names, units and values are checked against PostgreSQL 15's settings.",
  defaults: 'Machine size for every node and service that does not set its own.',
  'defaults.instance_type': 'lxc/bare: small | medium | large; aws: an EC2 type such as t3.medium.',
  'defaults.volume_gb': 'Size of the data volume (/var/lib/postgresql or /var/lib/barman), in GB.',
  access: 'Who may connect, and how.',
  'access.client_cidrs':
    'Networks allowed to connect to PostgreSQL (IPv4 or IPv6 CIDR). Empty means anywhere.',
  'access.ssh_authorized_keys':
    'OpenSSH public keys authorised on every host. tpa generates a key pair when empty.',
  'access.client_auth': 'Password method for clients: scram-sha-256, or md5 for legacy clients only.',
  'access.admin_user': 'The user tpa logs in as on machines it creates.',
  backup: 'Backups with barman: base backups on a schedule plus continuous WAL streaming.',
  'backup.mode':
    'none | shared (one barman server for every cluster) | exclusive (one barman server per cluster).',
  'backup.schedule': 'When base backups run: a 5-field cron expression (minute hour day month weekday).',
  'backup.retention': 'barman retention policy: "RECOVERY WINDOW OF N DAYS|WEEKS|MONTHS" or "REDUNDANCY N".',
  lxc: 'Settings of the lxc platform.',
  'lxc.subnet': 'Private IPv4 network (/16 to /28) of the group bridge; chosen automatically when absent.',
  aws: 'Settings of the aws platform.',
  'aws.region': 'AWS region the machines are created in.',
  prices: 'Monthly prices used by `tpa cost` where tpa has no price table (lxc, bare), in USD.',
  'prices.instances': 'Instance type -> USD per month.',
  'prices.volume_gb_month': 'USD per GB of volume per month.',
  clusters: 'The PostgreSQL clusters: each one primary and its replicas.',
  'clusters[].name': 'Name of the cluster: a lowercase host name label, unique in the group.',
  'clusters[].architecture': 'Architecture: M1 (one primary, streaming replicas, automatic failover).',
  'clusters[].failover_manager':
    'What promotes a replica when the primary fails: repmgr, or none (a single-node cluster, no failover).',
  'clusters[].durability': 'async, or sync: quorum synchronous replication, no acknowledged write lost.',
  'clusters[].pooler': 'Connection pooler in front of PostgreSQL: pgbouncer or none.',
  'clusters[].backup_server': 'The barman service backing this cluster up (default: the only one).',
  'clusters[].backups':
    'false: this cluster is never backed up, whatever backup.mode says (the temporary cluster of `tpa test --restore-drill`).',
  'clusters[].postgres_settings': 'postgresql.conf settings for this cluster only.',
  'clusters[].postgres_package_version':
    "This cluster's PostgreSQL package version, over postgres.package_version (written by `tpa upgrade --cluster`).",
  'clusters[].repmgr': "repmgr's own options (failover_manager: repmgr).",
  'clusters[].failover':
    'When a replica takes over from an unreachable primary, and when a cut-off primary fences itself.',
  'clusters[].failover.timeout':
    'Seconds an unreachable primary is given before a replica is promoted (default 9, the least: a primary cut off from every other node stops taking writes within 6, and a killed postgres is not mistaken for one its siblings still see).',
  'clusters[].failover.min_standbys':
    'Standbys a primary needs connected: with fewer, and no other node of the cluster reachable, it stops its server (fenced). 0 never fences. Default 1 when the cluster has replicas.',
  'clusters[].repmgr.monitoring_history':
    'Write repmgr.monitoring_history (grows until `repmgr cluster cleanup`; default false).',
  'clusters[].nodes': 'The machines of the cluster: exactly one primary, any number of replicas.',
  'clusters[].nodes[].name': 'Host name of the node, unique in the group.',
  'clusters[].nodes[].role': 'primary or replica.',
  'clusters[].nodes[].upstream': 'The node this replica streams from (cascading); default: the primary.',
  'clusters[].nodes[].address': 'platform bare: IP address or host name tpa reaches the host at.',
  'clusters[].nodes[].ssh_user': 'platform bare: user tpa logs in as (needs sudo).',
  'clusters[].nodes[].ssh_port': 'platform bare: SSH port (default 22).',
  'clusters[].nodes[].ssh_key':
    'platform bare: private key file, relative to the cluster directory or absolute.',
  'clusters[].nodes[].instance_type': 'Overrides defaults.instance_type for this node.',
  'clusters[].nodes[].volume_gb': 'Overrides defaults.volume_gb for this node.',
  'clusters[].nodes[].postgres_settings': 'postgresql.conf settings for this node only.',
  'clusters[].nodes[].failover_priority':
    'repmgr priority: the replica with the highest is promoted first; 0 never. Default 100 minus the position in nodes.',
  'clusters[].nodes[].node_id':
    "The node's id in the failover manager, unique in the cluster. Default its position in nodes plus one; tpa remove-node writes it for the nodes whose positions move.",
  services: 'Shared services of the group; today barman backup servers.',
  'services[].name': 'Host name of the service, unique in the group.',
  'services[].role': 'barman.',
  'services[].address': 'platform bare: IP address or host name tpa reaches the host at.',
  'services[].ssh_user': 'platform bare: user tpa logs in as (needs sudo).',
  'services[].ssh_port': 'platform bare: SSH port (default 22).',
  'services[].ssh_key': 'platform bare: private key file, relative to the cluster directory or absolute.',
  'services[].instance_type': 'Overrides defaults.instance_type for this service.',
  'services[].volume_gb': 'Overrides defaults.volume_gb for this service.',
};
