// Keyset paging, the one way both stores cut a list into pages: items in a total order (one or two times, then the
// id, which breaks ties), a page is the `limit` items after the cursor, and the cursor is the sort key of the
// previous page's last item. Cursors are base64url JSON arrays of the key (ISO times, then the id): bookmarked
// cursors and the API's "next" links depend on that encoding, so it must not change.
import { and, asc, desc, eq, gt, lt, or, type AnyColumn, type SQL } from 'drizzle-orm';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Page, type PageRequest } from './history-store.js';
import { HistoryQueryError, isUuid, toDate } from './store-util.js';

/** An item's place in a list: its time (or two), then its id. */
export type SortKey = [time: Date, id: string] | [time: Date, time2: Date, id: string];

/** The order of a list. */
export interface Keyset<T> {
  direction: 'asc' | 'desc';
  /** How many parts the key has (and so a valid cursor). */
  parts: SortKey['length'];
  key: (item: T) => SortKey;
}

/** The sort columns of a keyset in the same order as its key: the time columns, then the id column. */
export type SortColumns = [time: AnyColumn, id: AnyColumn] | [time: AnyColumn, time2: AnyColumn, id: AnyColumn];

/** What a keyset query adds to its own filter: the rows after the cursor (undefined on the first page), the order, the row count. */
export interface KeysetQuery {
  after: SQL | undefined;
  orderBy: SQL[];
  limit: number;
}

export function pageLimit(page: PageRequest | undefined): number {
  const limit = page?.limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) throw new HistoryQueryError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  return limit;
}

export const encodeCursor = (key: SortKey): string =>
  Buffer.from(JSON.stringify(key.map((part) => (part instanceof Date ? part.toISOString() : part)))).toString('base64url');

const INVALID_CURSOR = 'cursor is not valid: pass the "next" link or nextCursor of the previous page unchanged';

export function decodeCursor(cursor: string | undefined, parts: SortKey['length']): SortKey | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (!Array.isArray(key) || key.length !== parts || !key.every((k) => typeof k === 'string')) throw new HistoryQueryError(INVALID_CURSOR);
  const id = key[parts - 1] as string;
  const times = (key.slice(0, parts - 1) as string[]).map((t) => toDate(t));
  if (!isUuid(id) || times.some((t) => !t)) throw new HistoryQueryError(INVALID_CURSOR);
  return [...(times as Date[]), id.toLowerCase()] as SortKey;
}

/** Cuts fetched items (up to limit + 1, in order) into a page: the extra item only says that there is a next page. */
function toPage<T>(items: T[], limit: number, key: (item: T) => SortKey): Page<T> {
  if (items.length <= limit) return { items };
  const page = items.slice(0, limit);
  return { items: page, nextCursor: encodeCursor(key(page[page.length - 1]!)) };
}

/** (col1, col2, ...) > (v1, v2, ...) for 'asc', < for 'desc', written without row values for portability. */
function beyond(columns: readonly AnyColumn[], key: readonly (Date | string)[], direction: Keyset<unknown>['direction']): SQL {
  const past = direction === 'asc' ? gt : lt;
  const [column, ...restColumns] = columns;
  const [value, ...restValues] = key;
  if (!restColumns.length) return past(column!, value);
  return or(past(column!, value), and(eq(column!, value), beyond(restColumns, restValues, direction)))!;
}

/**
 * One page of a SQL list. `fetch` runs the list's own query with the pieces added: `where(and(filter, after))`,
 * `orderBy(...orderBy)`, `limit(limit)`; it returns the items in that order.
 */
export async function keysetPage<T>(page: PageRequest | undefined, order: Keyset<T>, columns: SortColumns, fetch: (query: KeysetQuery) => Promise<T[]>): Promise<Page<T>> {
  const limit = pageLimit(page);
  const cursor = decodeCursor(page?.cursor, order.parts);
  const orderBy = columns.map((c) => (order.direction === 'asc' ? asc(c) : desc(c)));
  const items = await fetch({ after: cursor && beyond(columns, cursor, order.direction), orderBy, limit: limit + 1 });
  return toPage(items, limit, order.key);
}

/** Compares sort keys part by part: times by value, ids as text (the order PostgreSQL gives lower-case UUIDs). */
export function compareKeys(a: SortKey, b: SortKey): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const d = x instanceof Date && y instanceof Date ? x.getTime() - y.getTime() : x < y ? -1 : x > y ? 1 : 0;
    if (d) return d;
  }
  return 0;
}

/** One page of a list held in memory, in the same order and with the same cursors as keysetPage. */
export function pageOfItems<T>(items: readonly T[], page: PageRequest | undefined, order: Keyset<T>): Page<T> {
  const limit = pageLimit(page);
  const cursor = decodeCursor(page?.cursor, order.parts);
  const sign = order.direction === 'asc' ? 1 : -1;
  const sorted = [...items].sort((a, b) => sign * compareKeys(order.key(a), order.key(b)));
  const after = cursor ? sorted.filter((x) => sign * compareKeys(order.key(x), cursor) > 0) : sorted;
  return toPage(after.slice(0, limit + 1), limit, order.key);
}
