// Source-mode worker (tests and `npm start` run TypeScript without a build): register tsx's loader in
// this worker thread, then load the real worker. Published builds use worker.js directly.
import { register } from 'tsx/esm/api';

register();
const { default: run } = await import('./worker.ts');
export default run;
