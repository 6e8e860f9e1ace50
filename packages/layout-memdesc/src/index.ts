export { MemdescLayout, DEFAULT_DESCRIPTOR_SIZES, type DescriptorKind, type MemdescOptions } from './memdesc-layout.js';
import { MemdescLayout, type MemdescOptions } from './memdesc-layout.js';

/** Factory used by the machine's registry: `memdesc` and `struct-page-32`. */
export function createMemdescLayout(options: MemdescOptions = {}): MemdescLayout {
  return new MemdescLayout(options);
}
