// `npm start` runs the built server, building it first when dist/ is missing or older than src/.
const { existsSync, statSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const { execSync } = require('node:child_process');

const root = join(__dirname, '..');
const out = join(root, 'dist', 'src', 'main.js');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const stale = !existsSync(out) || newest(join(root, 'src')) > statSync(out).mtimeMs || newest(join(root, 'migrations')) > statSync(out).mtimeMs;
if (stale) {
  console.log('building kernelab (dist/ is missing or out of date)...');
  execSync('npx nest build', { cwd: root, stdio: 'inherit' });
}
