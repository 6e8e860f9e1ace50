import fc from 'fast-check';

/**
 * Property tests are reproducible: every fc.assert in a run starts from one seed, so `npm test` (and CI)
 * checks the same cases on every machine and a red run can be replayed. FC_SEED=<integer> picks another
 * seed; FC_SEED=random (what `npm run test:fuzz` sets) draws a fresh one per run to search for new
 * counterexamples. fast-check prints the seed and path of any failure; rerun with that FC_SEED to replay it.
 */
const DEFAULT_SEED = 20261122;

function fc_seed(env: string | undefined): number {
  if (env === undefined || env === '') return DEFAULT_SEED;
  if (env === 'random') return (Math.random() * 2 ** 31) | 0;
  if (!/^-?\d+$/.test(env)) throw new Error(`FC_SEED: "${env}" is not an integer or "random"`);
  return Number(env) | 0;
}

fc.configureGlobal({ seed: fc_seed(process.env.FC_SEED) });
