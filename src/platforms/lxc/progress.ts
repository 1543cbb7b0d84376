/**
 * Live progress for the long steps of a first run on a machine (host packages, the base image's
 * debootstrap and packages, the stack image's packages): their output, which the CLI shows only
 * with TPA_VERBOSE, becomes an info line every few seconds saying what is happening now and
 * how far it got, so a first `tpa demo` is never silent for minutes.
 */
import type { EventSink } from '../../core/events.ts';

const STEP =
  /^(?:Get:\d+ \S+ \S+ \S+ (\S+)|Unpacking (\S+)|Setting up (\S+)|I: (?:Retrieving|Validating|Extracting|Unpacking|Configuring|Installing(?: core packages)?)\s*(\S*))/;

export function progressSink(events: EventSink, label: string, everyMs = 3000): EventSink {
  let last = 0;
  let fetched = 0;
  let setUp = 0;
  return (e) => {
    events(e);
    if (e.kind !== 'output') return;
    for (const raw of e.text.split('\n')) {
      const line = raw.trim();
      const m = STEP.exec(line);
      if (!m) continue;
      if (line.startsWith('Get:')) fetched++;
      if (line.startsWith('Setting up')) setUp++;
      const now = Date.now();
      if (now - last < everyMs) continue;
      last = now;
      const what = line.startsWith('I: ')
        ? line.slice(3)
        : line.replace(/^Get:\d+ \S+ \S+ \S+ /, 'downloading ');
      const counts = fetched || setUp ? ` (${fetched} downloaded, ${setUp} set up so far)` : '';
      events({ kind: 'info', message: `${label}: ${what.slice(0, 80)}${counts}` });
    }
  };
}
