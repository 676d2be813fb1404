/** Population generation case, run by bench/run.ts; prints one JSON line. */
import { generatePopulation } from '../src/domain/population/generate.js';

const n = Number(process.argv[2]);
let peak = 0;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
const t0 = performance.now();
const files = generatePopulation({ n, seed: 1 });
const wallSeconds = (performance.now() - t0) / 1000;
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
process.stdout.write(`${JSON.stringify({ wallSeconds, users: files.profiles.length, edges: files.follows.length, peakRssMb: Math.round(peak / 2 ** 20) })}\n`);
