// A board: columns (categories) and task cards, one weft Doc (docs/web.md):
//   map:columns  column id -> map { title, order }
//   map:tasks    task id   -> map { title, description, assignee, due,
//                                   status, column, order }
// A card's place is two registers of its own (column, order), so a move and
// a concurrent edit of its title touch different keys and both survive, and
// two concurrent moves end with one of them (last writer wins), never a copy.
import type { Peer, StructHandle } from '@weft/sdk';
import { field, h, mount } from '../dom';
import { onLeave } from '../router';
import { avatars, me } from './presence';

interface Column { id: string; title: string; order: number }
interface Task {
  id: string; title: string; description: string; assignee: string; due: string;
  status: string; column: string; order: number;
}
const kDefaultColumns: [string, string][] = [['todo', 'To do'], ['doing', 'Doing'], ['done', 'Done']];
const kStatuses = ['open', 'in progress', 'blocked', 'done'];

function newId(): string {
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36).slice(-4);
}

function read(doc: StructHandle): { columns: Column[]; tasks: Task[] } {
  const json = doc.toJSON() as Record<string, Record<string, Record<string, unknown>>>;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  const columns = Object.entries(json['map:columns'] ?? {}).map(([id, c]) => ({ id, title: str(c.title), order: num(c.order) }))
    .sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
  const tasks = Object.entries(json['map:tasks'] ?? {}).map(([id, t]) => ({
    id, title: str(t.title), description: str(t.description), assignee: str(t.assignee), due: str(t.due),
    status: str(t.status) || 'open', column: str(t.column), order: num(t.order),
  })).sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
  return { columns, tasks };
}

/** An order between the neighbours at `index` of `siblings` (sorted, the moved one left out). */
function orderAt(siblings: Task[], index: number): number {
  const prev = siblings[index - 1];
  const next = siblings[index];
  if (prev && next) return (prev.order + next.order) / 2;
  if (prev) return prev.order + 1;
  if (next) return next.order - 1;
  return 1;
}

export function boardView(body: HTMLElement, header: HTMLElement, doc: StructHandle, readOnly: boolean): void {
  doc.presence.set(me());
  const people = avatars(doc.presence);
  header.append(people.el);
  const board = h('div', { class: 'board', role: 'list', 'aria-label': 'Columns' });
  const columnEls = new Map<string, { el: HTMLElement; title: HTMLElement; list: HTMLElement; rename: HTMLElement; input: HTMLElement; add: HTMLElement }>();
  const cardEls = new Map<string, { el: HTMLElement; render(t: Task): void; showTyping(names: string[]): void }>();
  let state = read(doc);
  let openTask: string | null = null;

  const setTask = (id: string, key: string, value: string | number) => {
    const ref = doc.mapContainer('map:tasks', id);
    if (ref) doc.mapSet(ref, key, value);
  };

  function move(taskId: string, column: string, index: number): void {
    const siblings = state.tasks.filter((t) => t.column === column && t.id !== taskId);
    const order = orderAt(siblings, Math.max(0, Math.min(index, siblings.length)));
    doc.transact(() => {
      setTask(taskId, 'column', column);
      setTask(taskId, 'order', order);
    });
  }

  function addTask(column: string, title: string): void {
    const siblings = state.tasks.filter((t) => t.column === column);
    const id = newId();
    doc.transact(() => {
      const ref = doc.mapSet('map:tasks', id, { new: 'map' })!;
      doc.mapSet(ref, 'title', title);
      doc.mapSet(ref, 'description', '');
      doc.mapSet(ref, 'assignee', '');
      doc.mapSet(ref, 'due', '');
      doc.mapSet(ref, 'status', 'open');
      doc.mapSet(ref, 'column', column);
      doc.mapSet(ref, 'order', orderAt(siblings, siblings.length));
    });
  }

  function addColumn(title: string, id = newId(), order = (state.columns.at(-1)?.order ?? 0) + 1): void {
    const ref = doc.mapSet('map:columns', id, { new: 'map' })!;
    doc.mapSet(ref, 'title', title);
    doc.mapSet(ref, 'order', order);
  }

  let typingTimer: number | undefined;
  function typing(taskId: string): void {
    doc.presence.set({ typing: true, status: taskId });
    clearTimeout(typingTimer);
    typingTimer = window.setTimeout(() => doc.presence.set({ typing: false, status: '' }), 4000);
  }

  function columnEl(c: Column) {
    let col = columnEls.get(c.id);
    if (!col) {
      const title = h('h2', { id: `col-${c.id}` });
      const list = h('ul', { class: 'cards', 'aria-labelledby': `col-${c.id}`, 'data-column': c.id });
      const input = h('input', { name: 'new-task', 'aria-label': `New task in ${c.title}`, placeholder: 'New task', required: true });
      const add = h('button', { type: 'submit' }, 'Add');
      const form = h('form', { class: 'inline add-task' }, input, add);
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        if (!input.value.trim()) return;
        addTask(c.id, input.value.trim());
        input.value = '';
      });
      list.addEventListener('dragover', (e) => {
        if (readOnly) return;
        e.preventDefault();
        list.classList.add('drop');
      });
      list.addEventListener('dragleave', () => list.classList.remove('drop'));
      list.addEventListener('drop', (e) => {
        e.preventDefault();
        list.classList.remove('drop');
        const id = e.dataTransfer?.getData('text/plain');
        if (!id || readOnly) return;
        const cards = [...list.querySelectorAll<HTMLElement>(':scope > li')].filter((li) => li.dataset.task !== id);
        let index = cards.findIndex((li) => e.clientY < li.getBoundingClientRect().top + li.offsetHeight / 2);
        if (index < 0) index = cards.length;
        move(id, c.id, index);
      });
      const rename = h('button', { type: 'button', class: 'secondary small', 'aria-label': `Rename column ${c.title}` }, 'Rename');
      rename.addEventListener('click', () => {
        const current = state.columns.find((x) => x.id === c.id)?.title ?? '';
        const input = h('input', { name: 'column-title', value: current, 'aria-label': `New name for ${current}`, required: true });
        const f = h('form', { class: 'inline' }, input, h('button', { type: 'submit', class: 'small' }, 'Save'));
        f.addEventListener('submit', (e) => {
          e.preventDefault();
          const ref = doc.mapContainer('map:columns', c.id);
          if (ref && input.value.trim()) doc.mapSet(ref, 'title', input.value.trim());
          f.replaceWith(head);
        });
        input.addEventListener('keydown', (e) => { if (e.key === 'Escape') f.replaceWith(head); });
        head.replaceWith(f);
        input.select();
      });
      const head = h('div', { class: 'column-head' }, title, readOnly ? null : rename);
      const el = h('section', { class: 'column', role: 'listitem', 'data-column': c.id }, head, list, readOnly ? null : form);
      col = { el, title, list, rename, input, add };
      columnEls.set(c.id, col);
    }
    col.title.textContent = c.title;
    col.rename.setAttribute('aria-label', `Rename column ${c.title}`);
    col.input.setAttribute('aria-label', `New task in ${c.title}`);
    col.add.setAttribute('aria-label', `Add task to ${c.title}`);
    return col;
  }

  function cardEl(t: Task) {
    let card = cardEls.get(t.id);
    if (card) return card;
    const title = h('h3', { class: 'card-title' });
    const info = h('p', { class: 'card-info' });
    const typingNote = h('p', { class: 'typing', 'aria-live': 'polite' });
    const editor = h('div', { class: 'card-editor', hidden: true });
    const toggle = h('button', { type: 'button', class: 'secondary small', 'aria-expanded': 'false' }, readOnly ? 'Details' : 'Edit');
    const el = h('li', { class: 'task', draggable: readOnly ? 'false' : 'true', 'data-task': t.id }, title, info, typingNote, toggle, editor);
    el.addEventListener('dragstart', (e) => {
      e.dataTransfer?.setData('text/plain', t.id);
      if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move';
    });

    const inputs = {
      title: h('input', { name: 'title', readOnly }),
      description: h('textarea', { name: 'description', rows: 3, readOnly }),
      assignee: h('input', { name: 'assignee', readOnly }),
      due: h('input', { name: 'due', type: 'date', readOnly }),
    };
    const status = h('select', { name: 'status', disabled: readOnly }, ...kStatuses.map((s) => h('option', { value: s }, s)));
    const column = h('select', { name: 'column', disabled: readOnly });
    for (const [key, input] of Object.entries(inputs)) {
      input.addEventListener('input', () => {
        setTask(t.id, key, input.value);
        typing(t.id);
      });
    }
    status.addEventListener('change', () => setTask(t.id, 'status', status.value));
    column.addEventListener('change', () => move(t.id, column.value, Number.MAX_SAFE_INTEGER));
    const nudge = (delta: number) => {
      const cur = state.tasks.find((x) => x.id === t.id);
      if (!cur) return;
      const siblings = state.tasks.filter((x) => x.column === cur.column);
      const i = siblings.findIndex((x) => x.id === t.id);
      move(t.id, cur.column, i + delta);
    };
    mount(editor,
      field('Title', inputs.title), field('Description', inputs.description), field('Assignee', inputs.assignee),
      field('Due date', inputs.due), field('Status', status), field('Column', column),
      readOnly ? null : h('div', { class: 'inline' },
        h('button', { type: 'button', class: 'secondary small', onclick: () => nudge(-1) }, 'Move up'),
        h('button', { type: 'button', class: 'secondary small', onclick: () => nudge(1) }, 'Move down'),
        h('button', { type: 'button', class: 'danger small', onclick: () => doc.mapDelete('map:tasks', t.id) }, 'Delete task')));
    toggle.addEventListener('click', () => {
      const open = editor.hidden;
      editor.hidden = !open;
      toggle.setAttribute('aria-expanded', String(open));
      openTask = open ? t.id : null;
      if (open) inputs.title.focus();
    });

    let columnsShown = '';
    card = {
      el,
      render(task: Task) {
        title.textContent = task.title || 'Untitled';
        toggle.setAttribute('aria-label', `${readOnly ? 'Details of' : 'Edit'} ${task.title || 'task'}`);
        info.textContent = [task.status, task.assignee && `@${task.assignee}`, task.due && `due ${task.due}`].filter(Boolean).join(' · ');
        for (const [key, input] of Object.entries(inputs)) {
          const v = task[key as keyof typeof inputs];
          if (document.activeElement !== input && input.value !== v) input.value = v;
        }
        if (document.activeElement !== status) status.value = task.status;
        // The options are rebuilt only when the columns change, and never
        // under an open select (rebuilding would close it and lose the pick).
        const columns = JSON.stringify(state.columns.map((c) => [c.id, c.title]));
        if (document.activeElement === column) return;
        if (columns !== columnsShown) {
          mount(column, ...state.columns.map((c) => h('option', { value: c.id }, c.title)));
          columnsShown = columns;
        }
        column.value = task.column;
      },
      showTyping(names: string[]) {
        const note = names.length ? `${names.join(', ')} typing…` : '';
        if (typingNote.textContent !== note) typingNote.textContent = note;
      },
    };
    // What changed while the column select was open shows once it closes.
    column.addEventListener('blur', () => {
      const cur = state.tasks.find((x) => x.id === t.id);
      if (cur) cardEls.get(t.id)?.render(cur);
    });
    cardEls.set(t.id, card);
    return card;
  }

  // Presence touches only the typing notes: the board itself is redrawn on
  // document changes alone.
  function renderTyping(): void {
    const typingBy = new Map<string, string[]>();
    for (const p of doc.presence.peers() as Peer[]) {
      if (p.typing && typeof p.status === 'string' && p.status) {
        typingBy.set(p.status, [...(typingBy.get(p.status) ?? []), String(p.name ?? 'Someone')]);
      }
    }
    for (const [id, card] of cardEls) card.showTyping(typingBy.get(id) ?? []);
  }

  function render(): void {
    state = read(doc);
    const seenCols = new Set<string>();
    const colNodes = state.columns.map((c) => { seenCols.add(c.id); return columnEl(c).el; });
    for (const [id, col] of columnEls) if (!seenCols.has(id)) { col.el.remove(); columnEls.delete(id); }
    syncChildren(board, colNodes);
    const seenTasks = new Set<string>();
    for (const c of state.columns) {
      const nodes = state.tasks.filter((t) => t.column === c.id).map((t) => {
        seenTasks.add(t.id);
        const card = cardEl(t);
        card.render(t);
        return card.el;
      });
      syncChildren(columnEls.get(c.id)!.list, nodes);
    }
    for (const [id, card] of cardEls) if (!seenTasks.has(id)) { card.el.remove(); cardEls.delete(id); if (openTask === id) openTask = null; }
    renderTyping();
  }

  const newColumn = h('input', { name: 'new-column', 'aria-label': 'New column', placeholder: 'New column', required: true });
  const columnForm = h('form', { class: 'inline' }, newColumn, h('button', { type: 'submit' }, 'Add column'));
  columnForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (newColumn.value.trim()) addColumn(newColumn.value.trim());
    newColumn.value = '';
  });
  body.append(board, readOnly ? h('p', { class: 'muted' }, 'You can view this board but not change it.') : columnForm);

  const offChange = doc.on('change', render);
  const offPresence = doc.presence.on('change', renderTyping);
  render();
  // A new board gets the usual three columns, with fixed ids so that two
  // people opening it at once make the same ones.
  void doc.whenSynced().then(() => {
    if (!readOnly && !doc.readOnly && read(doc).columns.length === 0) {
      doc.transact(() => kDefaultColumns.forEach(([id, title], i) => addColumn(title, id, i + 1)));
    }
  });
  onLeave(() => {
    offChange();
    offPresence();
    people.dispose();
    clearTimeout(typingTimer);
  });
}

/** Makes `parent`'s children exactly `nodes`, moving only what is out of place (focus stays). */
export function syncChildren(parent: HTMLElement, nodes: HTMLElement[]): void {
  nodes.forEach((node, i) => {
    if (parent.children[i] !== node) parent.insertBefore(node, parent.children[i] ?? null);
  });
  while (parent.children.length > nodes.length) parent.lastElementChild!.remove();
}
