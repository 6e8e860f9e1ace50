export { PerFolioPolicy, createPolicy, name, type PerFolioOptions } from './per-folio.js';
