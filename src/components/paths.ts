/** Places on the hosts that belong to tpa itself rather than to one component. */

/** tpa's scripts on the hosts (the failover manager's, the pooler's, barman's) */
export const TPA_LIB_DIR = '/usr/local/lib/tpa';
