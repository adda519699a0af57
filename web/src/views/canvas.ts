// A canvas: shapes in one weft Doc (docs/web.md):
//   map:shapes  shape id -> map { type, x, y, w, h, color, text, z }
// Every property is its own register, so one person moving a shape while
// another recolours it keeps both. Pointers travel as presence
// ({ pointer: {x, y} }) and show with the person's name.
import { cssColor, type Peer, type StructHandle } from '@weft/sdk';
import { field, h, mount } from '../dom';
import { onLeave } from '../router';
import { syncChildren } from './board';
import { avatars, me } from './presence';

type ShapeType = 'rect' | 'ellipse' | 'sticky' | 'text';
interface Shape { id: string; type: ShapeType; x: number; y: number; w: number; h: number; color: string; text: string; z: number }
const kTypes: [ShapeType, string][] = [['rect', 'Rectangle'], ['ellipse', 'Ellipse'], ['sticky', 'Sticky note'], ['text', 'Text']];
const kDefaults: Record<ShapeType, Partial<Shape>> = {
  rect: { w: 160, h: 100, color: '#4f7cff' }, ellipse: { w: 140, h: 140, color: '#2fb67c' },
  sticky: { w: 160, h: 140, color: '#ffd54a', text: 'Note' }, text: { w: 180, h: 40, color: '#1d2330', text: 'Text' },
};

function read(doc: StructHandle): Shape[] {
  const json = (doc.toJSON()['map:shapes'] ?? {}) as Record<string, Record<string, unknown>>;
  const num = (v: unknown, d: number) => (typeof v === 'number' && isFinite(v) ? v : d);
  return Object.entries(json).map(([id, s]) => ({
    id, type: (['rect', 'ellipse', 'sticky', 'text'].includes(String(s.type)) ? s.type : 'rect') as ShapeType,
    x: num(s.x, 0), y: num(s.y, 0), w: Math.max(20, num(s.w, 100)), h: Math.max(20, num(s.h, 60)),
    color: cssColor(s.color) ?? '#888', text: typeof s.text === 'string' ? s.text : '', z: num(s.z, 0),
  })).sort((a, b) => a.z - b.z || a.id.localeCompare(b.id));
}

export function canvasView(body: HTMLElement, header: HTMLElement, doc: StructHandle, readOnly: boolean): void {
  doc.presence.set(me());
  const people = avatars(doc.presence);
  header.append(people.el);
  const surface = h('div', { class: 'canvas', role: 'group', 'aria-label': 'Canvas' });
  const shapesLayer = h('div', { class: 'shapes' });
  const pointers = h('div', { class: 'pointers', 'aria-hidden': 'true' });
  surface.append(shapesLayer, pointers);
  const els = new Map<string, HTMLElement>();
  let shapes: Shape[] = read(doc);
  let selected: string | null = null;

  const set = (id: string, props: Partial<Record<keyof Shape, string | number>>) => {
    const ref = doc.mapContainer('map:shapes', id);
    if (!ref) return;
    doc.transact(() => { for (const [k, v] of Object.entries(props)) doc.mapSet(ref, k, v as string | number); });
  };
  const topZ = () => Math.max(0, ...shapes.map((s) => s.z)) + 1;

  function add(type: ShapeType): void {
    const id = Math.random().toString(36).slice(2, 10);
    const d = kDefaults[type];
    const n = shapes.length;
    doc.transact(() => {
      const ref = doc.mapSet('map:shapes', id, { new: 'map' })!;
      const props: Record<string, string | number> = { type, x: 40 + (n % 8) * 30, y: 40 + (n % 8) * 30, w: d.w!, h: d.h!, color: d.color!, text: d.text ?? '', z: topZ() };
      for (const [k, v] of Object.entries(props)) doc.mapSet(ref, k, v);
    });
    select(id);
  }

  // Toolbar: add shapes; colour, text, front, delete for the selection.
  const color = h('input', { type: 'color', name: 'color', disabled: true });
  const text = h('input', { name: 'shape-text', disabled: true });
  const front = h('button', { type: 'button', class: 'secondary', disabled: true }, 'Bring to front');
  const remove = h('button', { type: 'button', class: 'danger', disabled: true }, 'Delete shape');
  color.addEventListener('input', () => selected && set(selected, { color: color.value }));
  text.addEventListener('input', () => selected && set(selected, { text: text.value }));
  front.addEventListener('click', () => selected && set(selected, { z: topZ() }));
  remove.addEventListener('click', () => {
    if (!selected) return;
    doc.mapDelete('map:shapes', selected);
    select(null);
  });
  const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Canvas tools' },
    ...kTypes.map(([type, label]) => h('button', { type: 'button', class: 'secondary', onclick: () => add(type) }, `Add ${label.toLowerCase()}`)),
    field('Colour', color), field('Text', text), front, remove);

  function select(id: string | null): void {
    selected = id;
    for (const [sid, el] of els) el.setAttribute('aria-pressed', String(sid === id));
    const s = shapes.find((x) => x.id === id);
    for (const c of [color, text, front, remove]) c.disabled = !s;
    if (s) {
      color.value = /^#[0-9a-f]{6}$/i.test(s.color) ? s.color : '#888888';
      text.value = s.text;
    }
  }

  function shapeEl(s: Shape): HTMLElement {
    let el = els.get(s.id);
    if (!el) {
      el = h('div', { class: 'shape', tabindex: 0, role: 'button', 'data-shape': s.id, 'aria-pressed': 'false' });
      const handle = h('span', { class: 'resize', 'aria-hidden': 'true' });
      el.append(h('span', { class: 'label' }), handle);
      const id = s.id;
      el.addEventListener('focus', () => select(id));
      el.addEventListener('pointerdown', (e) => {
        select(id);
        el!.focus();
        if (readOnly) return;
        const start = shapes.find((x) => x.id === id);
        if (!start) return;
        const resizing = e.target === handle;
        const x0 = e.clientX;
        const y0 = e.clientY;
        el!.setPointerCapture(e.pointerId);
        // One change per animation frame, however many pointer events the
        // frame had (a mouse reports up to a few hundred a second), and the
        // last position at once on release.
        let pending: Partial<Shape> | null = null;
        let frame = 0;
        const commit = () => {
          frame = 0;
          if (pending) set(id, pending);
          pending = null;
        };
        const onMove = (m: PointerEvent) => {
          const dx = Math.round(m.clientX - x0);
          const dy = Math.round(m.clientY - y0);
          pending = resizing ? { w: Math.max(20, start.w + dx), h: Math.max(20, start.h + dy) } : { x: start.x + dx, y: start.y + dy };
          if (!frame) frame = requestAnimationFrame(commit);
        };
        const onUp = () => {
          el!.removeEventListener('pointermove', onMove);
          el!.removeEventListener('pointerup', onUp);
          cancelAnimationFrame(frame);
          commit();
        };
        el!.addEventListener('pointermove', onMove);
        el!.addEventListener('pointerup', onUp);
        e.preventDefault();
      });
      // Keyboard: arrows move, shift+arrows resize.
      el.addEventListener('keydown', (e) => {
        const cur = shapes.find((x) => x.id === id);
        const step = { ArrowLeft: [-10, 0], ArrowRight: [10, 0], ArrowUp: [0, -10], ArrowDown: [0, 10] }[e.key];
        if (!cur || !step || readOnly) return;
        e.preventDefault();
        if (e.shiftKey) set(id, { w: Math.max(20, cur.w + step[0]!), h: Math.max(20, cur.h + step[1]!) });
        else set(id, { x: cur.x + step[0]!, y: cur.y + step[1]! });
      });
      els.set(s.id, el);
    }
    el.className = `shape shape-${s.type}`;
    el.style.cssText = `left:${s.x}px;top:${s.y}px;width:${s.w}px;height:${s.h}px;z-index:${s.z};` +
      (s.type === 'text' ? `color:${s.color};` : `background:${s.color};`);
    el.dataset.x = String(s.x);
    el.dataset.y = String(s.y);
    el.setAttribute('aria-label', `${kTypes.find(([t]) => t === s.type)![1]}${s.text ? `: ${s.text}` : ''} at ${s.x}, ${s.y}`);
    (el.firstChild as HTMLElement).textContent = s.text;
    return el;
  }

  function render(): void {
    shapes = read(doc);
    const seen = new Set(shapes.map((s) => s.id));
    for (const [id, el] of els) if (!seen.has(id)) { el.remove(); els.delete(id); }
    syncChildren(shapesLayer, shapes.map(shapeEl));
    if (selected && !seen.has(selected)) select(null);
    else select(selected);
  }

  function renderPointers(peers: Peer[]): void {
    const at = (p: Peer) => p.pointer as { x: unknown; y: unknown } | null | undefined;
    const placed = peers.filter((p) => { const pt = at(p); return !!pt && typeof pt === 'object' && Number.isFinite(pt.x) && Number.isFinite(pt.y); });
    mount(pointers, ...placed.map((p) => {
      const pt = p.pointer as { x: number; y: number };
      return h('div', { class: 'pointer', style: `left:${pt.x}px;top:${pt.y}px;--c:${p.color ?? '#333'}`, 'data-peer': String(p.name ?? '') },
        h('span', {}, String(p.name ?? 'Someone')));
    }));
  }

  surface.addEventListener('pointermove', (e) => {
    const r = surface.getBoundingClientRect();
    doc.presence.set({ pointer: { x: Math.round(e.clientX - r.left), y: Math.round(e.clientY - r.top) } });
  });
  surface.addEventListener('pointerleave', () => doc.presence.set({ pointer: null }));

  body.append(readOnly ? h('p', { class: 'muted' }, 'You can view this canvas but not change it.') : toolbar, surface);
  const offChange = doc.on('change', render);
  const offPresence = doc.presence.on('change', renderPointers);
  render();
  renderPointers(doc.presence.peers());
  onLeave(() => {
    offChange();
    offPresence();
    people.dispose();
  });
}
