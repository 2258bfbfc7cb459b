// A small element builder: text always goes in as text nodes, never as HTML, because every string
// shown comes from a bundle (log lines, config values) and must not be able to inject markup.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/**
 * A list whose items are focusable and open with Enter or Space (and a click); the arrow keys move
 * between items, so a long list is walked without the Tab key.
 */
export function actionList<T>(
  items: T[],
  render: (item: T) => Child[],
  open: (item: T) => void,
  opts: {
    label: string;
    selected?: (item: T) => boolean;
    /** Whether the item opens anything; one that does not stays in the list, to be read and walked past. */
    opens?: (item: T) => boolean;
    className?: string;
    testId?: string;
    key?: (item: T) => string;
  },
): HTMLUListElement {
  const ul = h('ul', {
    class: `list ${opts.className ?? ''}`,
    'aria-label': opts.label,
    'data-testid': opts.testId,
  });
  for (const item of items) {
    const sel = opts.selected?.(item) ?? false;
    const opens = opts.opens?.(item) ?? true;
    const li = h(
      'li',
      {
        tabindex: 0,
        role: 'button',
        class: [sel ? 'selected' : '', opens ? '' : 'static'].join(' ').trim() || undefined,
        'aria-current': sel ? 'true' : undefined,
        'aria-disabled': opens ? undefined : 'true',
        'data-key': opts.key?.(item),
      },
      ...render(item),
    );
    if (opens) li.addEventListener('click', () => open(item));
    li.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        if (opens) open(item);
      } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const next = (
          e.key === 'ArrowDown' ? li.nextElementSibling : li.previousElementSibling
        ) as HTMLElement | null;
        next?.focus();
      }
    });
    ul.append(li);
  }
  return ul;
}

/** A titled panel of the side column. */
export function section(title: string, id: string, ...body: Array<Node | null>): HTMLElement {
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), ...body);
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `10:04:05` in UTC: incident times are compared across people in different zones. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `2026-01-01 10:04:05 UTC` */
export function stamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${clock(ms)} UTC`;
}

/** A time near `ref` as a time of day; one on another (UTC) day with its date. */
export function near(ms: number, ref: number): string {
  const day = (t: number): string => new Date(t).toISOString().slice(0, 10);
  return day(ms) === day(ref) ? clock(ms) : stamp(ms);
}

/** A value of a diff or an evidence, short: strings bare, the rest as JSON. */
export function show(v: unknown): string {
  if (v === undefined) return '—';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 200 ? `${s.slice(0, 199)}…` : s;
}

/** The list entry that has the focus, as `testId|key`, to give it the focus back after a re-render. */
export function focusedEntry(): string | undefined {
  const el = document.activeElement;
  const key = el?.getAttribute('data-key');
  const list = el?.closest('[data-testid]')?.getAttribute('data-testid');
  return key && list ? `${list}|${key}` : undefined;
}

export function refocus(entry: string | undefined): void {
  if (!entry) return;
  const cut = entry.indexOf('|');
  const list = document.querySelector(`[data-testid="${CSS.escape(entry.slice(0, cut))}"]`);
  for (const li of list?.querySelectorAll<HTMLElement>('[data-key]') ?? []) {
    if (li.dataset['key'] === entry.slice(cut + 1)) {
      li.focus({ preventScroll: true });
      return;
    }
  }
}
