export { StructPageLayout, SLOT, PGTY, hvo_freed_bytes, type StructPageOptions } from './struct-page.js';
import { StructPageLayout, type StructPageOptions } from './struct-page.js';

/** Factory used by the machine's registry: `struct-page` and `struct-page-hvo`. */
export function createStructPageLayout(options: StructPageOptions = {}): StructPageLayout {
  return new StructPageLayout(options);
}
