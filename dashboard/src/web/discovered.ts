// The discovered machines view: machines the boot-server saw whose MAC no BareMetalHost declares, with the facts
// iPXE reported, most recently seen first, a page at a time.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';
import { age, localTime } from './format.js';

interface DiscoveredRow {
  mac: string;
  firstSeen: string;
  lastSeen: string;
  timesSeen: number;
  lastIp: string | null;
  arch: string | null;
  platform: string | null;
  systemUuid: string | null;
}

interface DiscoveredView {
  history: 'available' | 'unavailable';
  historyMessage?: string;
  items: DiscoveredRow[];
  nextCursor: string | null;
}

export function Discovered(props: { onError: (err: unknown) => void }) {
  // The cursors of the pages seen so far: going back is popping one.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [view, setView] = useState<DiscoveredView | undefined>();
  const cursor = cursors[cursors.length - 1];

  useEffect(() => {
    getJson<DiscoveredView>(`/api/discovered?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`).then(setView, props.onError);
  }, [cursor]);

  return html`
    <section aria-labelledby="discovered-title">
      <h1 id="discovered-title">Discovered machines</h1>
      ${!view
        ? html`<p role="status">Loading…</p>`
        : view.history === 'unavailable'
          ? html`<p class="muted">${view.historyMessage}</p>`
          : !view.items.length && cursors.length === 1
            ? html`<p>No unknown machine has network-booted from anvil.</p>`
            : html`
                <div class="table-wrap"><table class="discovered">
                  <caption>Machines seen on the boot network that no BareMetalHost declares, most recently seen first</caption>
                  <thead><tr><th scope="col">MAC</th><th scope="col">Last seen</th><th scope="col">First seen</th><th scope="col">Times seen</th><th scope="col">Last IP</th><th scope="col">Arch</th><th scope="col">Platform</th><th scope="col">System UUID</th></tr></thead>
                  <tbody>
                    ${view.items.map(
                      (d) => html`<tr data-mac=${d.mac}>
                        <th scope="row"><code>${d.mac}</code></th>
                        <td title=${localTime(d.lastSeen)}>${age(d.lastSeen)} ago</td>
                        <td>${localTime(d.firstSeen)}</td>
                        <td>${d.timesSeen}</td>
                        <td>${d.lastIp ?? '—'}</td>
                        <td>${d.arch ?? '—'}</td>
                        <td>${d.platform ?? '—'}</td>
                        <td><code>${d.systemUuid ?? '—'}</code></td>
                      </tr>`,
                    )}
                  </tbody>
                </table></div>
                <div class="pager">
                  <button type="button" disabled=${cursors.length === 1} onClick=${() => setCursors(cursors.slice(0, -1))}>Newer</button>
                  <button type="button" disabled=${!view.nextCursor} onClick=${() => view.nextCursor && setCursors([...cursors, view.nextCursor])}>Older</button>
                </div>
              `}
    </section>
  `;
}
