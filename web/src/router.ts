// Client-side routes over the History API. weftd answers index.html for any
// non-/api path, so every route is also a real URL.

export type RouteHandler = (params: Record<string, string>, query: URLSearchParams) => void | Promise<void>;
interface Route { parts: string[]; handler: RouteHandler }
const routes: Route[] = [];
let notFound: RouteHandler = () => {};
let cleanup: (() => void) | null = null;

export function route(pattern: string, handler: RouteHandler): void {
  routes.push({ parts: pattern.split('/').filter(Boolean), handler });
}
export function fallback(handler: RouteHandler): void { notFound = handler; }

/** Registers what to undo when the next route shows (close documents). */
export function onLeave(fn: () => void): void {
  const prev = cleanup;
  cleanup = () => { prev?.(); fn(); };
}

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  void render();
}

export async function render(): Promise<void> {
  cleanup?.();
  cleanup = null;
  const url = new URL(location.href);
  // A malformed escape (/d/%E0) is kept as it is: no page matches it.
  const decode = (p: string) => { try { return decodeURIComponent(p); } catch { return p; } };
  const parts = url.pathname.split('/').filter(Boolean).map(decode);
  for (const r of routes) {
    if (r.parts.length !== parts.length) continue;
    const params: Record<string, string> = {};
    if (r.parts.every((p, i) => (p.startsWith(':') ? ((params[p.slice(1)] = parts[i]), true) : p === parts[i]))) {
      await r.handler(params, url.searchParams);
      return;
    }
  }
  await notFound({}, url.searchParams);
}

export function startRouter(): void {
  window.addEventListener('popstate', () => void render());
  document.addEventListener('click', (e) => {
    const a = (e.target as Element).closest('a[data-link]') as HTMLAnchorElement | null;
    if (!a || e.metaKey || e.ctrlKey || e.shiftKey || a.target) return;
    e.preventDefault();
    navigate(a.getAttribute('href')!);
  });
  void render();
}
