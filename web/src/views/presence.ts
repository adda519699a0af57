// Presence shared by the document views: who we are (name and colour) and
// the avatars of the others in the document.
import type { Peer, PresenceHandle } from '@weft/sdk';
import * as api from '../api';
import { colorFor, h, mount } from '../dom';

export function me(): { name: string; color: string } {
  const user = api.currentUser();
  const name = user?.display_name ?? 'Someone';
  return { name, color: colorFor(user?.id ?? name) };
}

function initials(name: string): string {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0]!.toUpperCase()).join('') || '?';
}

/** A live list of the peers' avatars (name in the accessible label; a dot while they type). */
export function avatars(presence: PresenceHandle): { el: HTMLElement; dispose(): void } {
  const el = h('ul', { class: 'avatars', 'aria-label': 'People here' });
  const render = (peers: Peer[]) => mount(el, ...peers.filter((p) => p.name).map((p) => {
    const label = `${String(p.name)}${p.typing ? ' (typing)' : ''}`;
    return h('li', { class: p.typing ? 'avatar typing' : 'avatar', style: `background:${p.color ?? '#666'}`, title: label,
      'aria-label': label, 'data-peer': String(p.name) }, initials(String(p.name)));
  }));
  render(presence.peers());
  return { el, dispose: presence.on('change', render) };
}
