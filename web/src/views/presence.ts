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

/** A live list of the peers' avatars (name in the accessible label). */
export function avatars(presence: PresenceHandle): { el: HTMLElement; dispose(): void } {
  const el = h('ul', { class: 'avatars', 'aria-label': 'People here' });
  const render = (peers: Peer[]) => mount(el, ...peers.filter((p) => p.name).map((p) =>
    h('li', { class: 'avatar', style: `background:${p.color ?? '#666'}`, title: String(p.name), 'aria-label': String(p.name),
      'data-peer': String(p.name) }, initials(String(p.name)))));
  render(presence.peers());
  return { el, dispose: presence.on('change', render) };
}
