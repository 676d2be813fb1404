import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram, COMMANDS, invokedCommand } from '../src/cli/program.js';
import { versionLine } from '../src/version.js';
import { PROJECT_ROOT, runSim, SIM_BIN } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'sim-build-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const git = (...args: string[]) => execFileSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
const packageVersion = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).version as string;

describe('the built sim (bin/sim.js runs dist/)', () => {
  it('`sim --version` names the package version and the commit checked out, and says dirty when the sources differ from it', () => {
    const head = git('rev-parse', 'HEAD');
    expect(head).toMatch(/^[0-9a-f]{40}$/);
    // The build's inputs, as scripts/build.mjs lists them.
    const changed = git('status', '--porcelain', '--', 'src', 'migrations', 'package.json', 'package-lock.json', 'tsconfig.json', 'scripts/build.mjs', 'scripts/build-state.mjs') !== '';
    const result = runSim(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${packageVersion} (built from commit ${head}${changed ? ', dirty: the sources had uncommitted changes' : ''})\n`);
  });

  it('the build the tests run is as new as every source file (the global setup rebuilt it if not)', () => {
    const info = JSON.parse(readFileSync(join(PROJECT_ROOT, 'dist', 'build-info.json'), 'utf8')) as { inputsNewest: number };
    const newest = (dir: string): number =>
      Math.max(statSync(dir).mtimeMs, ...readdirSync(dir).map((name) => (statSync(join(dir, name)).isDirectory() ? newest(join(dir, name)) : statSync(join(dir, name)).mtimeMs)));
    expect(info.inputsNewest).toBeGreaterThanOrEqual(newest(join(PROJECT_ROOT, 'src')));
    expect(info.inputsNewest).toBeGreaterThanOrEqual(newest(join(PROJECT_ROOT, 'migrations')));
  });

  /** A copy of the package outside git: sources, scripts and bin copied, node_modules linked (or left out). */
  function cloneWithoutGit(name: string, withModules: boolean): string {
    const clone = join(scratch, name);
    for (const path of ['src', 'migrations', 'bin', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json']) cpSync(join(PROJECT_ROOT, path), join(clone, path), { recursive: true });
    if (withModules) symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(clone, 'node_modules'));
    return clone;
  }

  it('a clone without a build builds itself at its first start, and again after a source changes; outside git the commit is unknown', () => {
    const clone = cloneWithoutGit('clone', true);
    const first = spawnSync(process.execPath, [join(clone, 'bin', 'sim.js'), '--version'], { cwd: clone, encoding: 'utf8' });
    expect(first.stderr).toMatch(/^sim: building dist\/ from src\/ \(missing, or older than the sources\)\n/);
    expect(first.stdout).toBe(`${packageVersion} (built from commit unknown: no git repository)\n`);
    expect(first.status).toBe(0);
    const again = spawnSync(process.execPath, [join(clone, 'bin', 'sim.js'), '--version'], { cwd: clone, encoding: 'utf8' });
    expect(again.stderr).toBe('');
    // An edit: the next start runs the edited code, not the build made before it.
    const versionFile = join(clone, 'src', 'version.ts');
    writeFileSync(versionFile, readFileSync(versionFile, 'utf8').replace('no git repository', 'no git repository, edited'));
    const edited = spawnSync(process.execPath, [join(clone, 'bin', 'sim.js'), '--version'], { cwd: clone, encoding: 'utf8' });
    expect(edited.stderr).toMatch(/^sim: building dist\//);
    expect(edited.stdout).toBe(`${packageVersion} (built from commit unknown: no git repository, edited)\n`);
  });

  it('without a build and without esbuild to make one, sim says what to do', () => {
    const clone = cloneWithoutGit('no-dev', false);
    const result = spawnSync(process.execPath, [join(clone, 'bin', 'sim.js'), '--help'], { cwd: clone, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/esbuild is not installed, so dist\/ cannot be built; run `npm install` in the sim folder/);
    expect(result.stderr).toMatch(/sim: dist\/ is missing or older than src\/ and could not be rebuilt \(above\); run `npm install` in /);
  });

  it('the version line says where the running code came from', () => {
    expect(versionLine({ commit: 'a'.repeat(40), dirty: false })).toBe(`${packageVersion} (built from commit ${'a'.repeat(40)})`);
    expect(versionLine({ commit: 'b'.repeat(40), dirty: true })).toBe(`${packageVersion} (built from commit ${'b'.repeat(40)}, dirty: the sources had uncommitted changes)`);
    expect(versionLine({ commit: null, dirty: false })).toBe(`${packageVersion} (built from commit unknown: no git repository)`);
    // The tests import the sources, where no build stamp is compiled in.
    expect(versionLine()).toBe(`${packageVersion} (running from the TypeScript sources, not a build)`);
  });
});

describe('start-up loads only the command being run', () => {
  it('finds the command in argv, after global options or `help`', () => {
    expect(invokedCommand(['node', 'sim'])).toBeUndefined();
    expect(invokedCommand(['node', 'sim', '--help'])).toBeUndefined();
    expect(invokedCommand(['node', 'sim', 'runs', '--out', 'x'])).toBe('runs');
    expect(invokedCommand(['node', 'sim', '--debug', 'report', '3'])).toBe('report');
    expect(invokedCommand(['node', 'sim', 'help', 'plan'])).toBe('plan');
    expect(invokedCommand(['node', 'sim', 'help'])).toBeUndefined();
  });

  it('the top-level help lists each command exactly as its own module registers it', async () => {
    const full = await buildProgram(['node', 'sim'], 'all');
    const listedOnly = await buildProgram(['node', 'sim', '--help']);
    const term = (program: typeof full, name: string) => {
      const command = program.commands.find((c) => c.name() === name)!;
      return [program.createHelp().subcommandTerm(command), command.description()];
    };
    expect(full.commands.map((c) => c.name())).toEqual(COMMANDS.map((c) => c.name));
    for (const { name, term: listed, description } of COMMANDS) {
      expect(term(full, name), `the COMMANDS entry for ${name} in src/cli/program.ts`).toEqual([listed, description]);
      expect(term(listedOnly, name)).toEqual([listed, description]);
    }
    expect(listedOnly.helpInformation()).toBe(full.helpInformation());
  });

  it('`sim help <command>` and `sim <command> --help` show the command\'s own options', () => {
    for (const args of [['help', 'runs'], ['runs', '--help'], ['--debug', 'runs', '--help']]) {
      const result = runSim(args);
      expect(result.status, args.join(' ')).toBe(0);
      expect(result.stdout).toMatch(/^Usage: sim runs \[options\]/);
      expect(result.stdout).toMatch(/--verify/);
    }
    const unknown = runSim(['rnus']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'rnus'/);
    expect(unknown.stderr).toMatch(/Did you mean runs\?/);
  });

  /** The npm packages and source files whose code is in the built files a command loads (esbuild names each in a comment). */
  /** The files a start of `sim <args>` loads, in any thread. */
  function filesLoadedBy(args: string[], status = 0): Set<string> {
    const hooks = join(scratch, 'hooks.mjs');
    writeFileSync(hooks, `export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.startsWith('file:')) process.stderr.write('LOADED ' + r.url + '\\n'); return r; }\n`);
    writeFileSync(join(scratch, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const result = spawnSync(process.execPath, ['--import', join(scratch, 'register.mjs'), SIM_BIN, ...args], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(status);
    return new Set([...result.stderr.matchAll(/^LOADED (.*)$/gm)].map((m) => fileURLToPath(m[1])));
  }

  function codeLoadedBy(args: string[], status = 0): string[] {
    const code = new Set<string>();
    for (const file of filesLoadedBy(args, status)) {
      if (!file.startsWith(join(PROJECT_ROOT, 'dist'))) {
        code.add(relative(PROJECT_ROOT, file)); // bin/sim.js and scripts/ (better-sqlite3 is required, which this ESM hook does not see)
        continue;
      }
      for (const m of readFileSync(file, 'utf8').matchAll(/^\/\/ ((?:node_modules\/(?:@[^/]+\/)?[^/]+)|(?:src|migrations)\/\S+)/gm)) code.add(m[1]);
    }
    return [...code].sort();
  }

  it('`sim --help` loads commander and the command table, none of the commands', () => {
    const code = codeLoadedBy(['--help']);
    expect(code.filter((c) => c.startsWith('node_modules/'))).toEqual(['node_modules/commander']);
    expect(code.filter((c) => c.startsWith('src/')).sort()).toEqual(['src/cli/main.ts', 'src/cli/program.ts', 'src/cli/store-option.ts', 'src/errors.ts', 'src/package-root.ts', 'src/version.ts']);
  });

  it('`sim runs` loads the store, not the engine, the reports (vega) or the LLM client (openai)', () => {
    const code = codeLoadedBy(['runs', '--out', join(scratch, 'no-store')]);
    expect(code).toContain('src/cli/commands/runs.ts');
    expect(code).toContain('src/events/sqlite/store.ts');
    // The PostgreSQL backend (and its driver) is loaded only for a postgres:// store.
    expect(code).not.toContain('src/events/postgres/store.ts');
    expect(code).not.toContain('node_modules/pg');
    expect(code).not.toContain('src/sim/engine.ts');
    for (const heavy of ['node_modules/vega', 'node_modules/vega-lite', 'node_modules/openai', 'node_modules/playwright-core', 'node_modules/immer', 'node_modules/csv-parse']) expect(code).not.toContain(heavy);
    // The hash-chain check behind `sim runs --verify` is the one report module runs needs (it imports only the port's types).
    expect(code.filter((c) => (c.startsWith('src/report/') && c !== 'src/report/integrity.ts') || c.startsWith('src/llm/'))).toEqual([]);
  });

  it('`sim runs` on an up-to-date store with a run in it loads neither zod, kysely nor the domain: plain SQL, migrations checked by name, schemas left unloaded', () => {
    const out = join(scratch, 'one-run');
    expect(runSim(['run', '--n-users', '20', '--conditions', 'control', '--provider', 'offline', '--out', out]).status).toBe(0);
    const code = codeLoadedBy(['runs', '--out', out]);
    expect(code).toContain('src/events/sqlite/store.ts');
    for (const heavy of ['node_modules/zod', 'node_modules/kysely', 'src/sim/engine.ts', 'src/domain/events.ts', 'src/domain/config.ts', 'migrations/index.ts']) expect(code, heavy).not.toContain(heavy);
    // Of the domain, only the schema version the store records and the URL check of the CLI's options.
    expect(code.filter((c) => c.startsWith('src/domain/'))).toEqual(['src/domain/event-version.ts', 'src/domain/url.ts']);
    const listed = runSim(['runs', '--out', out, '--json']);
    expect(listed.status, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ id: 1, status: 'finished', chains: { ok: true, checked: 'heads' } }]);
    // Reading events loads the schemas they are checked with (`sim show` validates what it prints).
    const db = new BetterSqlite3(join(out, 'sim.db'), { readonly: true });
    const someone = db.prepare('select min(agent_id) from proj_personas').pluck().get() as number;
    db.close();
    expect(codeLoadedBy(['show', 'user', String(someone), '--out', out])).toContain('node_modules/zod');
  }, 240_000); // five starts of sim, one of them a run: under a loaded machine's minutes, not the default minute

  it('`sim status` on a SQLite store says it needs PostgreSQL before loading the job queue or the engine', () => {
    const result = runSim(['status', '--out', join(scratch, 'no-store')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/sim status: the store .*no-store\/sim\.db is SQLite; jobs are shared through PostgreSQL/);
    const code = codeLoadedBy(['status', '--out', join(scratch, 'no-store')], 2);
    for (const heavy of ['src/api/distributed.ts', 'src/sim/engine.ts', 'node_modules/pg-boss', 'node_modules/pg', 'node_modules/zod', 'node_modules/kysely']) expect(code, heavy).not.toContain(heavy);
  });

  it('the built engine runs its conditions in the built worker, not in the tsx shim the tests use', () => {
    const out = join(scratch, 'workers');
    const files = [...filesLoadedBy(['run', '--n-users', '30', '--conditions', 'control,treatment_info_message', '--workers', '2', '--provider', 'offline', '--out', out])].map((f) => relative(PROJECT_ROOT, f));
    expect(files).toContain('dist/condition-worker.js');
    expect(files.filter((f) => f.startsWith('src/') || f.includes('node_modules/tsx'))).toEqual([]);
  });

  it('the command modules still carry what their commands need (`sim report --help` loads vega)', () => {
    expect(codeLoadedBy(['report', '--help'])).toContain('node_modules/vega-lite');
  });
});
