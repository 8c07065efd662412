import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq } from 'drizzle-orm';
import { pgTable, text, timestamp, uuid as uuidColumn } from 'drizzle-orm/pg-core';
import type { SqlDatabase } from './database.js';
import { openPglite } from './drivers/pglite.js';
import type { Page, PageRequest } from './history-store.js';
import { decodeCursor, encodeCursor, keysetPage, pageOfItems, type Keyset, type SortColumns, type SortKey } from './paging.js';
import { HistoryQueryError } from './store-util.js';

interface Item {
  id: string;
  at: Date;
  received: Date;
  list: string;
}

const id = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const t = (s: number) => new Date(Date.UTC(2026, 2, 1) + s * 1000);

const newestFirst: Keyset<Item> = { direction: 'desc', parts: 2, key: (x) => [x.at, x.id] };
const oldestFirst: Keyset<Item> = { direction: 'asc', parts: 3, key: (x) => [x.at, x.received, x.id] };

// Ids inserted out of order, three items sharing one time and two sharing both times: only the id orders those.
const ITEMS: Item[] = [
  { id: id(5), at: t(10), received: t(1), list: 'a' },
  { id: id(2), at: t(30), received: t(1), list: 'a' },
  { id: id(9), at: t(20), received: t(2), list: 'a' },
  { id: id(1), at: t(20), received: t(2), list: 'a' },
  { id: id(4), at: t(20), received: t(1), list: 'a' },
  { id: id(7), at: t(40), received: t(1), list: 'a' },
  { id: id(3), at: t(50), received: t(1), list: 'b' },
];
const inList = ITEMS.filter((x) => x.list === 'a');
const NEWEST_FIRST = [id(7), id(2), id(9), id(4), id(1), id(5)];
const OLDEST_FIRST = [id(5), id(4), id(1), id(9), id(2), id(7)];

/** Every page of a list, walked with each page's nextCursor. */
async function walk(pageOf: (page: PageRequest) => Page<Item> | Promise<Page<Item>>, limit: number): Promise<{ ids: string[]; pages: Page<Item>[] }> {
  const pages: Page<Item>[] = [];
  let cursor: string | undefined;
  do {
    const page = await pageOf({ limit, cursor });
    pages.push(page);
    cursor = page.nextCursor;
  } while (cursor);
  return { ids: pages.flatMap((p) => p.items.map((x) => x.id)), pages };
}

describe('keyset cursors', () => {
  it('round-trip a key of one or two times and an id, in the encoding bookmarked cursors already use', () => {
    const two: SortKey = [t(20), id(9)];
    const three: SortKey = [t(20), t(2), id(9)];
    expect(decodeCursor(encodeCursor(two), 2)).toEqual(two);
    expect(decodeCursor(encodeCursor(three), 3)).toEqual(three);
    expect(encodeCursor(two)).toBe(Buffer.from(JSON.stringify([t(20).toISOString(), id(9)])).toString('base64url'));
    expect(decodeCursor(Buffer.from(JSON.stringify([t(20).toISOString(), id(9).toUpperCase()])).toString('base64url'), 2)).toEqual(two);
    expect(decodeCursor(undefined, 2)).toBeUndefined();
  });

  it('refuse a cursor that is not one of ours', () => {
    const bad = [encodeCursor([t(1), id(1)]), 'bm90IGEgY3Vyc29y', Buffer.from('["yesterday","x"]').toString('base64url'), Buffer.from(JSON.stringify([t(1).toISOString(), 'not-a-uuid'])).toString('base64url')];
    expect(() => decodeCursor(bad[0], 3)).toThrow(HistoryQueryError);
    for (const cursor of bad.slice(1)) expect(() => decodeCursor(cursor, 2)).toThrow(HistoryQueryError);
  });
});

describe('pageOfItems (the in-memory store)', () => {
  it('walks a list page by page, each item once, ties on time broken by id, the last page without nextCursor', async () => {
    for (const limit of [1, 2, 4, 6, 50]) {
      const { ids, pages } = await walk((page) => pageOfItems(inList, page, newestFirst), limit);
      expect(ids).toEqual(NEWEST_FIRST);
      expect(pages).toHaveLength(Math.ceil(NEWEST_FIRST.length / limit)); // a full last page has no nextCursor either
      expect(pages.at(-1)!.nextCursor).toBeUndefined();
      expect(pages.slice(0, -1).every((p) => p.items.length === limit && p.nextCursor)).toBe(true);
    }
    expect((await walk((page) => pageOfItems(inList, page, oldestFirst), 2)).ids).toEqual(OLDEST_FIRST);
  });

  it('refuses a limit out of range and a cursor of another order', () => {
    expect(() => pageOfItems(inList, { limit: 0 }, newestFirst)).toThrow(HistoryQueryError);
    const cursor = pageOfItems(inList, { limit: 1 }, newestFirst).nextCursor;
    expect(() => pageOfItems(inList, { cursor }, oldestFirst)).toThrow(HistoryQueryError);
  });
});

describe('keysetPage (the SQL store)', () => {
  const items = pgTable('paging_items', { id: uuidColumn('id').primaryKey(), at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(), received: timestamp('received', { withTimezone: true, mode: 'date' }).notNull(), list: text('list').notNull() });
  let db: SqlDatabase;
  const query = (order: Keyset<Item>) => (page: PageRequest) => {
    const columns: SortColumns = order.parts === 2 ? [items.at, items.id] : [items.at, items.received, items.id];
    return keysetPage(page, order, columns, ({ after, orderBy, limit }) => db.transaction((tx) => tx.select().from(items).where(and(eq(items.list, 'a'), after)).orderBy(...orderBy).limit(limit), { readOnly: true }));
  };

  beforeAll(async () => {
    db = await openPglite({ dataDir: 'memory://' });
    await db.exec('CREATE TABLE paging_items (id uuid PRIMARY KEY, at timestamptz NOT NULL, received timestamptz NOT NULL, list text NOT NULL)');
    await db.transaction((tx) => tx.insert(items).values(ITEMS));
  });
  afterAll(async () => {
    await db?.close();
  });

  it('walks a list page by page, each row once, ties on time broken by id, the last page without nextCursor', async () => {
    for (const limit of [1, 2, 4, 6, 50]) {
      const { ids, pages } = await walk(query(newestFirst), limit);
      expect(ids).toEqual(NEWEST_FIRST);
      expect(pages).toHaveLength(Math.ceil(NEWEST_FIRST.length / limit)); // a full last page has no nextCursor either
      expect(pages.at(-1)!.nextCursor).toBeUndefined();
      expect(pages.slice(0, -1).every((p) => p.items.length === limit && p.nextCursor)).toBe(true);
    }
    expect((await walk(query(oldestFirst), 2)).ids).toEqual(OLDEST_FIRST);
  });

  it('gives the same cursors as the in-memory store, so either continues the other’s page', async () => {
    for (const order of [newestFirst, oldestFirst]) {
      const sql = await walk(query(order), 2);
      const memory = await walk((page) => pageOfItems(inList, page, order), 2);
      expect(sql.pages.map((p) => p.nextCursor)).toEqual(memory.pages.map((p) => p.nextCursor));
    }
  });

  it('refuses a bad cursor before it queries', async () => {
    await expect(query(newestFirst)({ cursor: 'bm90IGEgY3Vyc29y' })).rejects.toBeInstanceOf(HistoryQueryError);
    await expect(query(newestFirst)({ limit: 1001 })).rejects.toBeInstanceOf(HistoryQueryError);
  });
});
