/**
 * The web approval page (docs/security.md §2), served by the relay at `/` and bundled by
 * `scripts/build-web.mjs`.
 *
 * - Pairing: `…/#pair=<code>&app=<id>&type=<kind>&id=<identity>` (from `noxy-relay pair`). The
 *   fragment never reaches a server; it is removed from the address bar at once. Keys are made
 *   here (ML-KEM-768 + Ed25519, device library), kept in IndexedDB (idb-key-store.ts), and the
 *   device registers with the pairing code over the WebSocket Client API (docs/protocol.md §5.4,
 *   §5.6); afterwards it reconnects with backoff on its own (device.ts).
 * - Display: every decrypted value goes into the DOM through `textContent` only, after the
 *   device's escaper (`quoteText`/`renderValue`): no control, bidi or invisible character can
 *   hide or forge content. Agent-written text is labelled as such.
 * - No `crypto.subtle` needed: on plain http (a phone on the LAN) the device uses noble AES-GCM.
 * @module
 */
import {
  actionFingerprint,
  checkActionHash,
  NoxyError,
  type IdentityType,
  IDENTITY_TYPES,
} from '@noxy-approval/core/portable';
import {
  createBrowserNoxyDevice,
  type NoxyDevice,
  quoteText,
  type ReceivedDecision,
  renderDecision,
  renderValue,
} from '../browser.js';
import {
  createIndexedDbKeyStore,
  listPairings,
  openPageDb,
  type PairingProfile,
  savePairing,
} from './idb-key-store.js';

type CardState = 'pending' | 'sending' | 'approved' | 'rejected' | 'elsewhere' | 'expired' | 'cancelled';

interface Card {
  decision: ReceivedDecision;
  expiresAt: number | undefined;
  root: HTMLElement;
  stateText: HTMLElement;
  countdown: HTMLElement;
  buttons: HTMLButtonElement[];
  state: CardState;
}

const $ = (id: string) => document.getElementById(id) as HTMLElement;
const cards = new Map<string, Card>();
let device: NoxyDevice | undefined;
// Other tabs of this browser share the device (same keys in IndexedDB): tell them what we answered.
const tabs = typeof BroadcastChannel === 'function' ? new BroadcastChannel('noxy-approval-page') : undefined;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text; // text only: never innerHTML
  return e;
}

function setStatus(state: string, text: string): void {
  const s = $('status');
  s.dataset.state = state;
  s.textContent = text;
}

function notice(text: string | undefined): void {
  const n = $('notice');
  n.hidden = text === undefined;
  n.textContent = text ?? '';
}

function span(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

// ---- pairing link ----

interface PairingLink {
  code: string;
  appId: string;
  identityType: IdentityType;
  identityId: string;
}

/** Reads `#pair=…` and removes the fragment from the address bar and the history entry. */
function takePairingFragment(): PairingLink | 'bad' | undefined {
  const hash = location.hash.slice(1);
  if (!hash.startsWith('pair=')) return undefined;
  history.replaceState(null, '', location.pathname + location.search);
  const q = new URLSearchParams(hash);
  const code = q.get('pair');
  const appId = q.get('app');
  const type = q.get('type');
  const id = q.get('id');
  if (!code || !appId || !type || !id || !(IDENTITY_TYPES as readonly string[]).includes(type)) return 'bad';
  return { code, appId, identityType: type as IdentityType, identityId: id };
}

// ---- decision cards ----

const STATE_TEXT: Record<Exclude<CardState, 'pending'>, string> = {
  sending: 'Sending your answer…',
  approved: 'Approved by you',
  rejected: 'Rejected by you',
  elsewhere: 'Decided elsewhere (another device or tab)',
  expired: 'Expired: it can no longer be answered',
  cancelled: 'Cancelled',
};

function setCardState(card: Card, state: CardState, detail?: string): void {
  if (card.state !== 'pending' && card.state !== 'sending' && state !== card.state) return; // final
  card.state = state;
  card.root.dataset.state = state;
  for (const b of card.buttons) b.disabled = state !== 'pending';
  if (state === 'pending') {
    card.stateText.textContent = 'Needs your answer';
    return;
  }
  card.stateText.textContent = detail ? `${STATE_TEXT[state]} (${detail})` : STATE_TEXT[state];
  if (state !== 'sending') card.countdown.textContent = '';
  updateEmpty();
}

function updateEmpty(): void {
  const pending = [...cards.values()].some((c) => c.state === 'pending' || c.state === 'sending');
  $('empty').hidden = pending;
}

function tick(): void {
  const now = Date.now();
  for (const card of cards.values()) {
    if (card.state !== 'pending' || card.expiresAt === undefined) continue;
    const left = card.expiresAt - now;
    if (left <= 0) setCardState(card, 'expired');
    else card.countdown.textContent = `expires in ${span(left)}`;
  }
}

function labelled(label: string, value: HTMLElement): HTMLElement[] {
  return [el('span', 'label', label), value];
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function renderCard(decision: ReceivedDecision): Card {
  const p = record(decision.payload);
  const root = el('article', 'card');
  root.dataset.decisionId = decision.decisionId;
  root.dataset.state = 'pending';
  const head = el('div', 'state');
  const stateText = el('span', 'state-text', 'Needs your answer');
  const countdown = el('span', 'countdown');
  head.append(stateText, countdown);
  root.append(head);

  const isV1 = p?.v === 1 && p.kind === 'propose_tool_call' && typeof p.tool === 'string';
  if (p && isV1) {
    root.append(...labelled('Tool', el('div', 'code tool', quoteText(p.tool as string))));
    if (/[^\x20-\x7e]/.test(p.tool as string))
      root.append(el('p', 'warning', 'The tool name contains non-ASCII characters (look-alike letters?)'));
    root.append(...labelled('Arguments', el('pre', 'args', renderValue(p.args ?? {}).join('\n'))));
    const fp = actionFingerprint(p.action_hash);
    const check = checkActionHash(p);
    const fpBox = el('div', 'fingerprint');
    fpBox.append(el('div', 'code', fp ?? 'none'));
    if (check === 'match') fpBox.append(el('div', 'match', '✓ matches the tool and arguments shown'));
    else fpBox.append(el('div', 'mismatch', '✗ does NOT match the tool and arguments shown: do not approve'));
    root.append(...labelled('Fingerprint', fpBox));
    const agent = record(p.agent);
    if (agent && typeof agent.name === 'string') {
      const host = typeof agent.host === 'string' ? ` on ${quoteText(agent.host)}` : '';
      root.append(
        ...labelled('Requested by (as reported by the agent)', el('div', 'code', quoteText(agent.name) + host)),
      );
    }
    const said = el('div', 'agent');
    said.append(el('span', 'label', 'Written by the agent (unverified)'));
    for (const k of ['title', 'summary'] as const) {
      if (k in p) said.append(el('p', `agent-${k}`, `${k === 'title' ? 'Title' : 'Summary'}: ${renderValue(p[k])[0]}`));
    }
    root.append(said);
  } else {
    // Another payload shape (e.g. an official SDK's title/summary only): the generic rendering.
    root.append(
      ...labelled('Request (rendered by code)', el('pre', 'args', renderDecision(decision.payload).join('\n'))),
    );
  }

  if (root.textContent?.includes('\\u{'))
    root.append(el('p', 'hint', '\\u{…} marks an invisible, control or direction-changing character in the request.'));
  const buttons = el('div', 'buttons');
  const reject = el('button', 'reject', 'Reject');
  const approve = el('button', 'approve', 'Approve');
  reject.type = approve.type = 'button';
  reject.dataset.action = 'reject';
  approve.dataset.action = 'approve';
  buttons.append(reject, approve);
  root.append(buttons);

  const expires = p && typeof p.expires_at === 'string' ? Date.parse(p.expires_at) : Number.NaN;
  const card: Card = {
    decision,
    expiresAt: Number.isNaN(expires) ? undefined : expires,
    root,
    stateText,
    countdown,
    buttons: [reject, approve],
    state: 'pending',
  };
  reject.addEventListener('click', () => void answer(card, 'reject'));
  approve.addEventListener('click', () => void answer(card, 'approve'));
  return card;
}

async function answer(card: Card, choice: 'approve' | 'reject'): Promise<void> {
  if (card.state !== 'pending' || !device) return;
  if (card.expiresAt !== undefined && Date.now() >= card.expiresAt) return setCardState(card, 'expired');
  setCardState(card, 'sending');
  try {
    const r = await device.decide(card.decision.decisionId, choice);
    if (r.outcome === r.requested) setCardState(card, r.outcome === 'approve' ? 'approved' : 'rejected');
    else setCardState(card, 'elsewhere', `it was ${r.outcome === 'approve' ? 'approved' : 'rejected'} first`);
    tabs?.postMessage({ decided: card.decision.decisionId });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/expired/i.test(message)) setCardState(card, 'expired');
    else if (NoxyError.isInstance(error) && error.code === 'RELAY_UNAVAILABLE') {
      setCardState(card, 'pending');
      notice('Could not reach the relay; your answer was not sent. Try again when connected.');
    } else setCardState(card, 'cancelled', message);
  }
}

function onDecision(decision: ReceivedDecision): void {
  if (cards.has(decision.decisionId)) return;
  const card = renderCard(decision);
  cards.set(decision.decisionId, card);
  $('list').prepend(card.root);
  tick();
  updateEmpty();
}

function onRouted(decisionId: string): void {
  const card = cards.get(decisionId);
  if (!card || (card.state !== 'pending' && card.state !== 'sending')) return;
  // decision_routed closes it either way; past its expiry it timed out rather than being answered.
  const expired = card.expiresAt !== undefined && Date.now() >= card.expiresAt - 1000;
  setCardState(card, expired ? 'expired' : 'elsewhere');
}

// ---- start ----

async function start(): Promise<void> {
  const link = takePairingFragment();
  const db = await openPageDb();
  let profile: PairingProfile | undefined;
  let pairingCode: string | undefined;
  if (link === 'bad') notice('This pairing link is incomplete or damaged; ask for a new one (noxy-relay pair).');
  else if (link) {
    profile = { appId: link.appId, identityType: link.identityType, identityId: link.identityId, pairedAt: Date.now() };
    pairingCode = link.code;
  }
  if (!profile) profile = (await listPairings(db)).at(-1);
  if (!profile) {
    setStatus('idle', 'not paired');
    $('unpaired').hidden = false;
    $('empty').hidden = true;
    return;
  }
  const who = $('who');
  who.hidden = false;
  const { identityType, identityId, appId } = profile;
  who.textContent = `Approving as ${identityType} ${quoteText(identityId)} · app ${quoteText(appId)}`;
  setStatus('connecting', pairingCode ? 'creating keys…' : 'connecting…');
  const loopback = /^(localhost|127(\.\d+){3}|\[::1\])$/.test(location.hostname);
  device = await createBrowserNoxyDevice({
    relayUrl: location.origin,
    appId: profile.appId,
    identity: { type: profile.identityType, id: profile.identityId },
    keyStore: createIndexedDbKeyStore(db),
    kem: 'mlkem',
    // This page came from this origin over the same connection the WebSocket will use.
    allowPlaintext: location.protocol === 'http:' && !loopback,
    ...(pairingCode ? { pairingCode } : {}),
  });
  device.on('decision', onDecision);
  device.on('routed', ({ decisionId }) => onRouted(decisionId));
  device.on('state', ({ state, delayMs }) => {
    if (state === 'ready') {
      setStatus('ready', 'connected');
      notice(undefined);
    } else if (state === 'waiting') setStatus('waiting', `offline · retry in ${span(delayMs ?? 0)}`);
    else if (state === 'connecting') setStatus('connecting', 'connecting…');
    else if (state === 'closed') setStatus('failed', 'stopped');
  });
  device.on('error', (error) => {
    if (error.code !== 'RELAY_UNAVAILABLE') notice(`Problem: ${error.message}`);
  });
  tabs?.addEventListener('message', (ev: MessageEvent<{ decided?: unknown }>) => {
    if (typeof ev.data?.decided === 'string') onRouted(ev.data.decided);
  });
  setInterval(tick, 1000);
  try {
    await device.connect();
    // Registered: remember the pairing (not the code, which is spent) for the next visit.
    if (pairingCode) await savePairing(db, profile);
  } catch (error) {
    setStatus('failed', 'not connected');
    const message = error instanceof Error ? error.message : String(error);
    notice(
      pairingCode
        ? `Pairing failed: ${message}. A pairing link works once and expires; ask for a new one.`
        : `Cannot connect: ${message}`,
    );
  }
}

start().catch((error: unknown) => {
  setStatus('failed', 'error');
  notice(`The page could not start: ${error instanceof Error ? error.message : String(error)}`);
});
