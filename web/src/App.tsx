// The shell: login gate, navigation, and the page for the current path.

import { useEffect, useState, type ReactNode } from 'react';
import { api, getToken, onUnauthorized, setToken } from './api/client';
import { useLiveStatus } from './api/live';
import type { Profile } from './api/types';
import { A, Toasts } from './components/ui';
import { match, navigate, usePath } from './router';
import { can, logout, setProfile, useProfile } from './session';
import { LoginPage } from './pages/Login';
import { routes } from './routes';

const NAV: { section: string; items: { to: string; label: string; level?: 'operator' | 'admin' }[] }[] = [
  { section: '', items: [{ to: '/', label: 'Dashboards' }] },
  {
    section: 'Resources',
    items: [
      { to: '/gateways', label: 'Gateways' },
      { to: '/nodes', label: 'Nodes' },
      { to: '/sources', label: 'Sources' },
      { to: '/fields', label: 'Fields' },
      { to: '/firmware', label: 'Firmware' },
      { to: '/datarepositories', label: 'Data repositories' },
    ],
  },
  {
    section: 'Automation',
    items: [
      { to: '/tasks', label: 'Tasks' },
      { to: '/schedules', label: 'Schedules' },
      { to: '/handlers', label: 'Handlers' },
      { to: '/forwardpayloads', label: 'Forward payloads' },
    ],
  },
  {
    section: 'Operations',
    items: [
      { to: '/settings', label: 'Settings', level: 'admin' },
      { to: '/backup', label: 'Backup & restore', level: 'admin' },
      { to: '/users', label: 'Users', level: 'admin' },
      { to: '/tokens', label: 'Service tokens' },
      { to: '/status', label: 'Status' },
    ],
  },
];

function LiveDot() {
  const s = useLiveStatus();
  return (
    <span className={`live live-${s}`} title={`live updates: ${s}`} data-live={s}>
      ● {s === 'live' ? 'live' : s}
    </span>
  );
}

function Shell({ profile, children }: { profile: Profile; children: ReactNode }) {
  const path = usePath();
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [path]);
  const active = (to: string) => (to === '/' ? path === '/' || path.startsWith('/dashboards') : path === to || path.startsWith(to + '/'));
  return (
    <div className={`shell ${open ? 'nav-open' : ''}`}>
      <header className="topbar">
        <button className="icon menu" aria-label="Menu" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
          ☰
        </button>
        <A to="/" className="brand">
          Switchyard
        </A>
        <span className="spacer" />
        <LiveDot />
        <A to="/profile" className="who">
          {profile.username}
        </A>
        <button onClick={() => logout().then(() => navigate('/login'))}>Log out</button>
      </header>
      <nav className="sidebar" aria-label="Main">
        {NAV.map((s) => (
          <div key={s.section} className="nav-section">
            {s.section && <h3>{s.section}</h3>}
            {s.items
              .filter((i) => !i.level || can(profile, i.level))
              .map((i) => (
                <A key={i.to} to={i.to} className={active(i.to) ? 'active' : ''}>
                  {i.label}
                </A>
              ))}
          </div>
        ))}
      </nav>
      <main className="content">{children}</main>
    </div>
  );
}

export function App() {
  const path = usePath();
  const profile = useProfile();
  const [checking, setChecking] = useState(!!getToken());

  useEffect(() => {
    const off = onUnauthorized(() => {
      setToken(null);
      setProfile(null);
    });
    if (getToken()) {
      api
        .get<Profile>('/api/user/profile')
        .then(setProfile)
        .catch(() => setToken(null))
        .finally(() => setChecking(false));
    }
    return () => void off();
  }, []);

  if (checking) return <div className="splash">Switchyard…</div>;
  if (!profile) {
    return (
      <>
        <LoginPage />
        <Toasts />
      </>
    );
  }
  if (path === '/login') {
    navigate('/', true);
    return null;
  }
  let page: ReactNode = <NotFound />;
  for (const [pattern, render] of routes) {
    const params = match(pattern, path);
    if (params) {
      page = render(params);
      break;
    }
  }
  return (
    <>
      <Shell profile={profile}>{page}</Shell>
      <Toasts />
    </>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no page here. <A to="/">Go to the dashboards</A>.
      </p>
    </section>
  );
}
