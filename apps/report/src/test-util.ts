import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CompareResult } from './types.js';

export const FIXTURE = fileURLToPath(new URL('../test-fixtures/sample-compare.json', import.meta.url));

/** A fresh copy of the sample result (tests mutate their copy). */
export function sample(): CompareResult {
  return JSON.parse(readFileSync(FIXTURE, 'utf8')) as CompareResult;
}

/** The JSON a report embeds in <script type="application/json" id="…">. */
export function embedded<T>(html: string, id: string): T {
  const m = new RegExp(`<script type="application/json" id="${id}">([^<]*)</script>`).exec(html);
  if (!m) throw new Error(`no embedded ${id}`);
  return JSON.parse(m[1]!) as T;
}

export interface EmbeddedChart {
  id: string;
  spec: Record<string, unknown> & { data?: { values: Array<Record<string, unknown>> }; layer?: Array<{ data?: { values: Array<Record<string, unknown>> } }> };
}
