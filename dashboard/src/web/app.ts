// The page: sign in with a Kubernetes token, then the fleet (#/), one host (#/hosts/<namespace>/<name>), the failures,
// the templates or the discovered machines.
// A refused token goes back to the sign-in form with the server's reason; a token without RBAC sees only the 403.
import { html } from 'htm/preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, endSession, forgetToken, getJson, saveToken, savedToken } from './api.js';
import { Failures } from './failures.js';
import { Fleet } from './fleet.js';
import { Host } from './host.js';
import { Discovered } from './discovered.js';
import { Templates } from './templates.js';

type ListView = 'fleet' | 'failures' | 'templates' | 'discovered';
type Route = { view: ListView } | { view: 'host'; namespace: string; name: string };
const NAV: readonly [ListView, string, string][] = [
  ['fleet', '#/', 'Fleet'],
  ['failures', '#/failures', 'Failures'],
  ['templates', '#/templates', 'Templates'],
  ['discovered', '#/discovered', 'Discovered'],
];

function routeOf(hash: string): Route {
  const m = /^#\/hosts\/([^/]+)\/([^/]+)$/.exec(hash);
  if (m) return { view: 'host', namespace: decodeURIComponent(m[1]!), name: decodeURIComponent(m[2]!) };
  return { view: NAV.find(([, href]) => href === hash)?.[0] ?? 'fleet' };
}

function View(props: { route: Route; onError: (err: unknown) => void }) {
  const { route, onError } = props;
  switch (route.view) {
    case 'host':
      return html`<${Host} key=${`${route.namespace}/${route.name}`} namespace=${route.namespace} name=${route.name} onError=${onError} />`;
    case 'failures':
      return html`<${Failures} onError=${onError} />`;
    case 'templates':
      return html`<${Templates} onError=${onError} />`;
    case 'discovered':
      return html`<${Discovered} onError=${onError} />`;
    default:
      return html`<${Fleet} onError=${onError} />`;
  }
}

function Login(props: { message: string | undefined; onToken: (t: string) => void }) {
  const [value, setValue] = useState('');
  return html`
    <main class="login">
      <h1>anvil dashboard</h1>
      <form onSubmit=${(e: Event) => {
        e.preventDefault();
        if (value.trim()) props.onToken(value.trim());
      }}>
        <label for="token">Kubernetes bearer token</label>
        <textarea id="token" name="token" rows="4" autocomplete="off" spellcheck=${false} value=${value}
          aria-describedby="token-help${props.message ? ' login-error' : ''}" onInput=${(e: Event) => setValue((e.target as HTMLTextAreaElement).value)}></textarea>
        <p id="token-help" class="muted">For example from <code>kubectl create token anvil-viewer -n anvil</code>. It stays in this tab only (sessionStorage).</p>
        ${props.message ? html`<p id="login-error" class="error" role="alert">${props.message}</p>` : null}
        <button type="submit">Sign in</button>
      </form>
    </main>
  `;
}

export function App() {
  const [token, setToken] = useState<string | null>(savedToken());
  const [user, setUser] = useState<string | undefined>();
  const [loginMessage, setLoginMessage] = useState<string | undefined>();
  const [forbidden, setForbidden] = useState<string | undefined>();
  const [route, setRoute] = useState<Route>(routeOf(location.hash));

  useEffect(() => {
    const onHash = () => setRoute(routeOf(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const onError = useCallback((err: unknown) => {
    if (err instanceof ApiError && err.status === 401) {
      forgetToken();
      setToken(null);
      setLoginMessage(err.message);
    } else if (err instanceof ApiError && err.status === 403) {
      setForbidden(err.message);
    } else {
      setForbidden(undefined);
      setLoginMessage(undefined);
      console.error(err);
    }
  }, []);

  useEffect(() => {
    if (!token) return;
    setForbidden(undefined);
    getJson<{ username: string }>('/api/hosts?limit=1').then((r) => setUser(r.username), onError);
  }, [token]);

  const signOut = () => {
    forgetToken();
    setToken(null);
    setUser(undefined);
    setForbidden(undefined);
    void endSession().catch(() => undefined);
  };

  if (!token) {
    return html`<${Login} message=${loginMessage} onToken=${(t: string) => {
      saveToken(t);
      setLoginMessage(undefined);
      setToken(t);
    }} />`;
  }
  const header = html`
    <header class="top">
      <a class="brand" href="#/">anvil</a>
      <nav aria-label="Views">${NAV.map(([view, href, label]) => html`<a href=${href} aria-current=${route.view === view ? 'page' : undefined}>${label}</a>`)}</nav>
      <span class="muted">${user ? `signed in as ${user}` : ''}</span>
      <button type="button" onClick=${signOut}>Sign out</button>
    </header>
  `;
  if (forbidden) {
    return html`${header}<main><h1>Forbidden</h1><p class="error" role="alert" data-testid="forbidden">403: ${forbidden}</p></main>`;
  }
  if (!user) return html`${header}<main><p role="status">Loading…</p></main>`;
  return html`${header}<main><${View} route=${route} onError=${onError} /></main>`;
}
