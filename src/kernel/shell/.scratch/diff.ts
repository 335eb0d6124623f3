// scratch: prints sim vs real differences for the compare spec's scripts
import { spawnSync } from 'child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { sim } from '../testing';
const src = readFileSync(join(__dirname, '../compare.spec.ts'), 'utf8');
const m = /const DATA = (\{[\s\S]*?\n\});/.exec(src)!;
const DATA = eval('(' + m[1] + ')');
function real(script: string, files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'kshell-'));
  for (const [name, data] of Object.entries(files)) { const p = join(dir, name); mkdirSync(dirname(p), { recursive: true }); writeFileSync(p, data); }
  const r = spawnSync('bash', ['-c', script], { cwd: dir, encoding: 'utf8', env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LC_ALL: 'C', LANG: 'C', TZ: 'UTC', TERM: 'xterm-256color' } });
  rmSync(dir, { recursive: true, force: true });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}
const scripts: string[] = eval('[' + [...src.matchAll(/const scripts(?:: string\[\])? = \[([\s\S]*?)\n  \];/g)].map((x) => x[1]).join(',') + ']');
const filter = process.argv[2];
let bad = 0;
for (const s of scripts) {
  if (filter && !s.includes(filter)) continue;
  const a = sim(s, DATA); const b = real(s, DATA);
  if (a.stdout !== b.stdout || a.stderr !== b.stderr || a.status !== b.status) {
    bad++;
    console.log('=====', JSON.stringify(s));
    if (a.stdout !== b.stdout) console.log('--- stdout sim:\n' + JSON.stringify(a.stdout) + '\n--- real:\n' + JSON.stringify(b.stdout));
    if (a.stderr !== b.stderr) console.log('--- stderr sim:\n' + JSON.stringify(a.stderr) + '\n--- real:\n' + JSON.stringify(b.stderr));
    if (a.status !== b.status) console.log(`--- status sim ${a.status} real ${b.status}`);
  }
}
console.log('mismatches:', bad, 'of', scripts.length);
