// A small DOM builder: h('button', {onclick, 'aria-label': ...}, 'text').

type Attrs = Record<string, unknown>;
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v as EventListener);
    } else if (k === 'value' && 'value' in el) {
      (el as HTMLInputElement).value = String(v);
    } else if (k === 'checked' || k === 'disabled' || k === 'readOnly') {
      (el as unknown as Record<string, unknown>)[k] = v;
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

let nextId = 0;
/** A labelled form field: <label for=id>Text</label> <input id=id>. (Not the
 * label wrapped around the control: a wrapped select would add its chosen
 * option to its accessible name.) */
export function field(label: string, input: HTMLElement): HTMLDivElement {
  if (!input.id) input.id = `f${++nextId}`;
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
}

/** Replaces the children of `el`. */
export function mount(el: Element, ...children: Child[]): void {
  el.replaceChildren(...(children.filter(Boolean) as (Node | string)[]));
}

/** Shows an error (or clears it) in a role=alert element. */
export function errorBox(): { el: HTMLElement; show(e: unknown): void; clear(): void } {
  const el = h('p', { class: 'error', role: 'alert' });
  return {
    el,
    show(e) {
      el.textContent = e instanceof Error ? e.message : String(e);
    },
    clear() {
      el.textContent = '';
    },
  };
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** A stable colour for a user id or name. */
export function colorFor(key: string): string {
  let hash = 0;
  for (const ch of key) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
  return `hsl(${Math.abs(hash) % 360} 65% 45%)`;
}
