// Run by live.test.ts as an unprivileged user: prints the error readLive() gives, on one line.
import { readLive } from '../src/index.ts';

try {
  await readLive();
  console.log('no error');
} catch (e) {
  console.log(`${e.name}|${e.message}`);
}
