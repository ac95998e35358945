// Dashboards: several, each a grid of widgets the user arranges by dragging and resizing.

import { useEffect, useMemo, useState } from 'react';
import ReactGridLayout, { useContainerWidth, type Layout } from 'react-grid-layout';
import 'react-grid-layout/css/styles.css';
import { api } from '../api/client';
import { useLive } from '../api/live';
import type { Dashboard, ListAnswer, Widget } from '../api/types';
import { FieldPicker } from '../components/FieldPicker';
import { A, Confirm, ErrorBox, FormRow, Modal, toast, useLoad } from '../components/ui';
import { navigate } from '../router';
import { can, useProfile } from '../session';
import { WIDGETS, widgetDef, widgetFields, type WidgetDef } from '../widgets/catalog';
import { FieldStore } from '../widgets/fields';
import { placeNew } from '../lib/layout';

const COLS = 12;
const NARROW = 640;

function newId(): string {
  return Math.random().toString(36).slice(2, 10);
}

export function DashboardPage({ id }: { id?: string }) {
  const profile = useProfile();
  const { data: list, reload, error } = useLoad(
    () => api.get<ListAnswer<Dashboard>>('/api/dashboard', { limit: -1, sortBy: JSON.stringify([{ f: 'title', o: 'asc' }]) }),
    [],
  );
  useLive(['dashboard'], () => reload());
  const [creating, setCreating] = useState(false);
  const dashboards = list?.data ?? [];
  const current = id ? dashboards.find((d) => d.id === id) : (dashboards.find((d) => d.favorite) ?? dashboards[0]);
  const editor = can(profile, 'operator');

  return (
    <section className="dashboards">
      <div className="page-head">
        <nav className="tabs" aria-label="Dashboards">
          {dashboards.map((d) => (
            <A key={d.id} to={`/dashboards/${encodeURIComponent(d.id)}`} className={current?.id === d.id ? 'active' : ''}>
              {d.favorite ? '★ ' : ''}
              {d.title || d.id}
            </A>
          ))}
        </nav>
        <span className="spacer" />
        {editor && <button onClick={() => setCreating(true)}>New dashboard</button>}
      </div>
      <ErrorBox error={error} />
      {list && !current && (
        <div className="card empty-state">
          <h2>No dashboards yet</h2>
          <p>A dashboard shows values, charts and controls of your devices, arranged as you like.</p>
          {editor && (
            <button className="primary" onClick={() => setCreating(true)}>
              Create one
            </button>
          )}
        </div>
      )}
      {current && <DashboardView key={current.id + (current.modifiedOn ?? '')} dashboard={current} canEdit={editor} />}
      {creating && <NewDashboard onClose={() => setCreating(false)} />}
    </section>
  );
}

function NewDashboard({ onClose }: { onClose: () => void }) {
  const [title, setTitle] = useState('');
  const [error, setError] = useState<unknown>(null);
  return (
    <Modal title="New dashboard" onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const id = title.toLowerCase().replace(/[^a-z0-9_-]+/g, '_').replace(/^_|_$/g, '') || newId();
          try {
            await api.post('/api/dashboard', { id, type: 'desktop', title, description: '', favorite: false, disabled: false, labels: {}, widgets: [] });
            onClose();
            navigate(`/dashboards/${encodeURIComponent(id)}?edit=1`);
          } catch (err) {
            setError(err);
          }
        }}
      >
        <FormRow label="Title">
          <input name="title" required value={title} onChange={(e) => setTitle(e.target.value)} />
        </FormRow>
        <ErrorBox error={error} />
        <div className="actions">
          <button className="primary" type="submit">
            Create
          </button>
        </div>
      </form>
    </Modal>
  );
}

function DashboardView({ dashboard, canEdit }: { dashboard: Dashboard; canEdit: boolean }) {
  const [d, setD] = useState<Dashboard>(dashboard);
  const [editing, setEditing] = useState(() => new URLSearchParams(location.search).has('edit'));
  const [configuring, setConfiguring] = useState<Widget | null>(null);
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const { width, containerRef, mounted } = useContainerWidth();
  const narrow = width > 0 && width < NARROW;
  const ids = useMemo(() => d.widgets.flatMap(widgetFields), [d.widgets]);

  useEffect(() => setD(dashboard), [dashboard]);

  const layout: Layout = useMemo(() => {
    if (!narrow) return d.widgets.map((w) => ({ i: w.id, x: w.layout.x, y: w.layout.y, w: w.layout.w || 2, h: w.layout.h || 2, static: w.static }));
    // A phone gets one column, in reading order.
    let y = 0;
    return [...d.widgets]
      .sort((a, b) => a.layout.y - b.layout.y || a.layout.x - b.layout.x)
      .map((w) => {
        const item = { i: w.id, x: 0, y, w: 1, h: w.layout.h || 2, static: true };
        y += item.h;
        return item;
      });
  }, [d.widgets, narrow]);

  async function save(next: Dashboard = d) {
    try {
      const { modifiedOn: _m, ...body } = next;
      void _m;
      await api.post('/api/dashboard', body);
      setError(null);
      toast('dashboard saved');
      return true;
    } catch (e) {
      setError(e);
      return false;
    }
  }

  function onLayoutChange(l: Layout) {
    if (!editing || narrow) return;
    const byId = new Map(l.map((x) => [x.i, x]));
    setD((cur) => ({
      ...cur,
      widgets: cur.widgets.map((w) => {
        const x = byId.get(w.id);
        return x ? { ...w, layout: { x: x.x, y: x.y, w: x.w, h: x.h } } : w;
      }),
    }));
  }

  return (
    <div className={`dashboard ${editing ? 'editing' : ''}`}>
      {canEdit && (
        <div className="toolbar">
          {editing ? (
            <>
              <button className="primary" onClick={() => save().then((ok) => ok && (setEditing(false), history.replaceState(null, '', location.pathname)))}>
                Save layout
              </button>
              <button onClick={() => setAdding(true)}>+ Add widget</button>
              <button onClick={() => (setD(dashboard), setEditing(false))}>Cancel</button>
              <label className="inline">
                <input type="checkbox" checked={d.favorite} onChange={(e) => setD({ ...d, favorite: e.target.checked })} /> favourite
              </label>
              <span className="spacer" />
              <button className="danger" onClick={() => setDeleting(true)}>
                Delete dashboard
              </button>
            </>
          ) : (
            <button onClick={() => setEditing(true)}>Edit</button>
          )}
        </div>
      )}
      <ErrorBox error={error} />
      {d.widgets.length === 0 && <p className="muted">This dashboard is empty.{canEdit && ' Edit it and add widgets.'}</p>}
      <div ref={containerRef} className="grid-box">
        {mounted && (
          <FieldStore ids={ids}>
            <ReactGridLayout
              width={width}
              layout={layout}
              gridConfig={{ cols: narrow ? 1 : COLS, rowHeight: 48, margin: [12, 12] }}
              dragConfig={{ enabled: editing && !narrow, handle: '.widget-head' }}
              resizeConfig={{ enabled: editing && !narrow }}
              onLayoutChange={onLayoutChange}
            >
              {d.widgets.map((w) => {
                const def = widgetDef(w.type);
                return (
                  <div key={w.id} className="widget" data-widget={w.type}>
                    {((w.showTitle && w.title) || editing) && (
                      <div className="widget-head">
                        <span>{w.title || def?.label || w.type}</span>
                        {editing && (
                          <span className="widget-tools">
                            <button className="icon" aria-label={`Configure ${w.title || w.type}`} onClick={() => setConfiguring(w)}>
                              ⚙
                            </button>
                            <button className="icon" aria-label={`Remove ${w.title || w.type}`} onClick={() => setD({ ...d, widgets: d.widgets.filter((x) => x.id !== w.id) })}>
                              ×
                            </button>
                          </span>
                        )}
                      </div>
                    )}
                    <div className={`widget-body ${w.scrollbarDisabled ? 'no-scroll' : ''}`}>{def ? <def.View w={w} /> : <div className="widget-missing">Unknown widget {w.type}</div>}</div>
                  </div>
                );
              })}
            </ReactGridLayout>
          </FieldStore>
        )}
      </div>
      {adding && (
        <AddWidget
          onClose={() => setAdding(false)}
          onPick={(def) => {
            const w: Widget = { id: newId(), title: '', showTitle: true, scrollbarDisabled: false, static: false, type: def.type, layout: placeNew(d.widgets.map((x) => x.layout), def.size, COLS), config: { ...def.defaults } };
            setD({ ...d, widgets: [...d.widgets, w] });
            setAdding(false);
            setConfiguring(w);
          }}
        />
      )}
      {configuring && (
        <WidgetSettings
          widget={configuring}
          onClose={() => setConfiguring(null)}
          onSave={(w) => {
            setD({ ...d, widgets: d.widgets.map((x) => (x.id === w.id ? w : x)) });
            setConfiguring(null);
          }}
        />
      )}
      {deleting && (
        <Confirm
          text={`Delete the dashboard “${d.title || d.id}” and its widgets?`}
          yes="Delete"
          onClose={() => setDeleting(false)}
          onYes={async () => {
            await api.del('/api/dashboard', [d.id]);
            navigate('/');
          }}
        />
      )}
    </div>
  );
}

function AddWidget({ onClose, onPick }: { onClose: () => void; onPick: (d: WidgetDef) => void }) {
  return (
    <Modal title="Add a widget" onClose={onClose}>
      <div className="widget-choices">
        {WIDGETS.map((w) => (
          <button key={w.type} onClick={() => onPick(w)}>
            {w.label}
          </button>
        ))}
      </div>
    </Modal>
  );
}

function WidgetSettings({ widget, onClose, onSave }: { widget: Widget; onClose: () => void; onSave: (w: Widget) => void }) {
  const [w, setW] = useState(widget);
  const def = widgetDef(w.type);
  const cfg = w.config as Record<string, unknown>;
  const set = (k: string, v: unknown) => setW({ ...w, config: { ...cfg, [k]: v } });
  return (
    <Modal title={`${def?.label ?? w.type} settings`} onClose={onClose}>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          onSave(w);
        }}
      >
        <FormRow label="Title">
          <input name="title" value={w.title} onChange={(e) => setW({ ...w, title: e.target.value })} />
        </FormRow>
        <FormRow label="Show title">
          <input type="checkbox" checked={w.showTitle} onChange={(e) => setW({ ...w, showTitle: e.target.checked })} />
        </FormRow>
        {def?.config.map((item) => (
          <FormRow key={item.key} label={item.label} hint={item.hint}>
            {item.kind === 'field' ? (
              <FieldPicker label={item.label} value={String(cfg[item.key] ?? '')} onChange={(v) => set(item.key, v)} />
            ) : item.kind === 'fields' ? (
              <FieldsInput value={(cfg[item.key] as string[]) ?? []} onChange={(v) => set(item.key, v)} />
            ) : item.kind === 'select' ? (
              <select aria-label={item.label} value={String(cfg[item.key] ?? '')} onChange={(e) => set(item.key, e.target.value)}>
                {item.options!.map((o) => (
                  <option key={o}>{o}</option>
                ))}
              </select>
            ) : item.kind === 'textarea' ? (
              <textarea aria-label={item.label} rows={6} value={String(cfg[item.key] ?? '')} onChange={(e) => set(item.key, e.target.value)} />
            ) : item.kind === 'bool' ? (
              <input type="checkbox" aria-label={item.label} checked={!!cfg[item.key]} onChange={(e) => set(item.key, e.target.checked)} />
            ) : (
              <input
                aria-label={item.label}
                type={item.kind === 'number' ? 'number' : 'text'}
                value={String(cfg[item.key] ?? '')}
                onChange={(e) => set(item.key, item.kind === 'number' && e.target.value !== '' ? Number(e.target.value) : e.target.value)}
              />
            )}
          </FormRow>
        ))}
        <div className="actions">
          <button className="primary" type="submit">
            Apply
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}

function FieldsInput({ value, onChange }: { value: string[]; onChange: (v: string[]) => void }) {
  const rows = [...value, ''];
  return (
    <div className="fields-input">
      {rows.map((v, i) => (
        <FieldPicker
          key={i}
          label={`Field ${i + 1}`}
          value={v}
          onChange={(nv) => {
            const next = [...value];
            if (i < value.length) next[i] = nv;
            else next.push(nv);
            onChange(next.filter((x) => x.trim()));
          }}
        />
      ))}
    </div>
  );
}
