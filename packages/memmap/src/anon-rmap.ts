import { field_set_each } from './field.js';
import type { AnonRmapWrite } from './layout.js';

/** What a layout's folio_create_bulk_anon() writes in its own record, and what it leaves for afterwards. */
export interface AnonRecordWords {
  /** Word offsets in the record and their values: the declared init words with the rmap's writes applied. */
  readonly off: Int32Array;
  readonly val: Int32Array;
  /** The writes that land elsewhere (extra arrays, another record): made after the folios are built. */
  readonly later: readonly AnonRmapWrite[];
}

/**
 * The words of its record a new order-0 anon folio ends with: the declared init words (off[i] =
 * val[i]), each replaced by the rmap write to the same word, plus the rmap writes to other words of
 * the record. `inRecord` tells a write that lands in the record (its handle's offset is then the
 * word); the rest go to `later`. Building each folio with these equals building it with the init
 * words and then making every write, which is the contract of folio_create_bulk_anon().
 */
export function anon_record_words(off: Int32Array, val: Int32Array, writes: readonly AnonRmapWrite[], inRecord: (w: AnonRmapWrite) => boolean): AnonRecordWords {
  const o = Array.from(off);
  const v = Array.from(val);
  const later: AnonRmapWrite[] = [];
  for (const w of writes) {
    if (!inRecord(w)) {
      later.push(w);
      continue;
    }
    const at = o.indexOf(w.handle.off);
    if (at >= 0) v[at] = w.value;
    else {
      o.push(w.handle.off);
      v.push(w.value);
    }
  }
  return { off: Int32Array.from(o), val: Int32Array.from(v), later };
}

/** Make each write on n new folios: per-page fields at pfns[i], per-folio fields at folios[i]. */
export function anon_writes_make(writes: readonly AnonRmapWrite[], pfns: Int32Array, folios: Int32Array, n: number): void {
  for (const w of writes) field_set_each(w.handle, w.unit === 'page' ? pfns : folios, n, w.value);
}
