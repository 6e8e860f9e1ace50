// Source-mode worker (tests and `npm start` run TypeScript without a build): register tsx's loaders in
// this worker thread, ESM and CommonJS, then load the real worker. Published builds use worker.js directly.
import { register as registerEsm } from 'tsx/esm/api';
import { register as registerCjs } from 'tsx/cjs/api';

registerEsm();
registerCjs();
const { default: run } = await import('./worker.ts');
export default run;
