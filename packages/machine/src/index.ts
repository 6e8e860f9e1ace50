export { LAYOUTS, UnknownNameError, layout_entry, parse_layout_list, type LayoutEntry } from './layouts.js';
