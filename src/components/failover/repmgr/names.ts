/** The database role and database repmgr works with (created by the postgres component on the primary). */
export const REPMGR_ROLE = 'repmgr';
export const REPMGR_DATABASE = 'repmgr';
