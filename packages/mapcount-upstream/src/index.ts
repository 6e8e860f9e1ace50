export { UpstreamPolicy, createPolicy, name, ENTIRELY_MAPPED, FOLIO_PAGES_MAPPED, MM_IDS_SHARED, MM_ID_DUMMY, type UpstreamOptions } from './upstream.js';
