export { PerPagePolicy, createPolicy, name, ENTIRELY_MAPPED, FOLIO_PAGES_MAPPED, type PerPageOptions } from './per-page.js';
