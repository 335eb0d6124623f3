/**
 * Differential tests: the same script (and input files) through the
 * simulated shell and through the real bash 5.2 / coreutils / grep / sed /
 * gawk of this machine, compared byte for byte (stdout, stderr, status).
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { sim, type SimRun } from './testing';

function real(script: string, files: Record<string, string> = {}): SimRun {
  const dir = mkdtempSync(join(tmpdir(), 'kshell-'));
  try {
    for (const [name, data] of Object.entries(files)) {
      const p = join(dir, name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, data);
    }
    const r = spawnSync('bash', ['-c', script], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LC_ALL: 'C', LANG: 'C', TZ: 'UTC', TERM: 'xterm-256color' },
      timeout: 20000,
    });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const have = (tool: string): boolean => spawnSync('bash', ['-c', `command -v ${tool}`]).status === 0;

function same(script: string, files: Record<string, string> = {}): void {
  const a = sim(script, files);
  const b = real(script, files);
  expect({ script, ...a }).toEqual({ script, ...b });
}

const DATA = {
  'nums.txt': '10 apple 3\n2 banana 20\n33 cherry 1\n2 apple 7\n-5 date 0\n10 elder 11\n',
  'words.txt': 'the quick brown fox\njumps over\nthe lazy dog\n\nThe End\n',
  'csv.txt': 'name,age,city\nalice,30,paris\nbob,25,berlin\ncarol,35,rome\n',
  'dup.txt': 'a\na\nb\nc\nc\nc\na\n',
  'nonl.txt': 'one\ntwo\nthree',
  'sub/inner.txt': 'inside\nthe tree\n',
  'sub/deeper/x.log': 'log line\n',
};

describe('bash compatibility (compared with bash 5.2)', () => {
  const scripts = [
    // errors and exit codes
    'foo',
    'foo; echo $?',
    '/nope/x; echo $?',
    'echo )',
    'if true; then echo',
    'echo "abc',
    'cd /nope; echo $?',
    'cd a b',
    'cat < /nope; echo $?',
    'echo a 2>/nope/x; echo $?',
    'echo ok\necho )',
    'echo ok; (echo',
    'echo $((1/0)); echo after',
    'echo $((1+)); echo after',
    'echo ${}; echo after',
    'x=1; readonly x; x=2; echo after',
    'echo ${y:?}; echo after',
    'set -u; echo ${zz:-ok}; echo $zz; echo after',
    'exit 300',
    'echo ok\n\nfoo\nif true; then\n  nope\nfi',
    'cat <<EOF\nhello',
    'set -x; echo "a b" $((1+1)); x=1',
    'f() { echo "$LINENO $FUNCNAME"; }\nf\necho $LINENO',
    'fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(( $1 - 1 ))) )); fi; }; fact 10',
    'x=outer; f() { local x=inner; g; }; g() { echo $x; }; f; echo $x',
    'echo ${x:-$(echo sub)} "${y:-"quoted default"}" ${z:=assigned}; echo $z',
    'a="x y z"; set -- $a; echo $# $2; IFS=; set -- $a; echo $#',
    'echo "tab	sep" | while IFS="	" read a b; do echo "$b|$a"; done; IFS=, read -r p q <<< "1,2"; echo $q',
    'for f in *.txt; do echo "${f%.txt}"; done | sort -r | head -3',
    'echo $(( $(echo 3) + `echo 4` )); v=$(cat nonl.txt | wc -l); echo $v',
    'trap "echo bye" EXIT; echo hi',
    'time_var=1; declare -p time_var 2>/dev/null; readonly r=1; unset r; echo $?',
    'exit abc',
    'break; echo $?',
    'return; echo $?',
    'local x',
    '[ 1 -lt ]; echo $?',
    'kill %1',
    'wait %1',
    'fg',
    'shift 5; echo $?',
    // words and expansions
    'echo hello   world',
    'x="  a  b "; for i in $x; do echo "[$i]"; done',
    'IFS=:; x="a::b"; for i in $x; do echo "[$i]"; done',
    'set -- "a b" c; for i in "$@"; do echo "[$i]"; done; echo "[$*]" $#; for i in $*; do echo "<$i>"; done',
    'echo {1..3} {a,b}{c,d} {x} a{1..10..3} {c..a} {01..03}',
    'x=abc; echo ${x:1:1} ${#x} ${x/b/B} ${x^^} ${x%c} ${x#a} ${x: -2}',
    'p=/usr/local/lib.so.1; echo ${p##*/} ${p%%.*} ${p%/*} ${p//l/L}',
    'echo $((1 ? 2 : 3)) $((0x10)) $((2#101)) $((-5/2)) $((-5%2)) $((2**10)) $((1<<4)) $((7&3|8))',
    'i=5; echo $((i++)) $i $((--i)); let j=3*4; echo $j',
    'echo $(( 2 ** 63 )) $((08))',
    'echo ~root ~nobody ~xx',
    'echo \\$HOME "\\$x" \'$x\' $\'a\\tb\'',
    'x=a*; echo "$x" ${x}',
    'echo "$(echo hi; echo there)" `echo back`',
    'echo $(exit 3); echo $?; x=$(exit 4); echo $?',
    'a=1; (a=2; echo $a); echo $a',
    'a=1; { a=2; }; echo $a',
    'f() { local v=in; echo $1 $v; return 3; }; v=out; f arg; echo $? $v',
    'f() { echo $#; shift; echo "$@"; }; f a b c',
    'echo ${#@} ${1-unset} ${1:-empty}',
    'x=; echo ${x-a} ${x:-b} ${x+c} ${x:+d}; unset x; echo ${x-a} ${x+c}',
    'y=${y:=def}; echo $y',
    'echo a\\\nb',
    'cat <<EOF\nhello $HOME\n$((1+1)) `echo x`\nEOF',
    "cat <<'EOF'\nraw $HOME\nEOF",
    'cat <<-EOF\n\tindented\n\tEOF',
    'cat <<< "here string"; read a b <<< "one two three"; echo "$a|$b"',
    // control flow
    'if false; then echo a; elif true; then echo b; else echo c; fi',
    'i=0; while [ $i -lt 5 ]; do i=$((i+1)); [ $i -eq 2 ] && continue; [ $i -eq 4 ] && break; echo $i; done',
    'i=0; until [ $i -ge 3 ]; do echo $i; i=$((i+1)); done',
    'for i in 1 2 3; do for j in a b; do [ $j = b ] && continue 2; echo $i$j; done; done',
    'case abc in a*c) echo glob;; *) echo no;; esac; case x in y|x) echo alt;; esac',
    'case b in a) echo a;& b) echo b;& c) echo c;; d) echo d;; esac',
    'true && echo yes || echo no; false && echo yes || echo no; ! true; echo $?',
    'true | false; echo $?; false | true; echo $?; set -o pipefail; false | true; echo $?',
    'set -e; echo a; false; echo b',
    'set -e; false || true; if false; then :; fi; echo survived',
    '(exit 7); echo $?; (echo in; exit 2) && echo no; echo $?',
    '[[ abc == a* ]] && echo match; [[ -n "" ]] || echo empty; [[ 3 -lt 10 && x < y ]] && echo both',
    '((5 > 3)) && echo gt; ((0)); echo $?',
    'test -d / && test -f /etc/passwd && [ ! -e /nope ] && echo files',
    '[ a = a -a b != c ]; echo $?; [ -z "" ]; echo $?; [ 2 -gt 10 ]; echo $?',
    // redirections and pipelines
    'echo one > f; echo two >> f; cat f; cat < f | wc -l',
    'ls /nope 2>/dev/null; echo $?',
    '{ echo out; echo err >&2; } 2>&1 | cat',
    'echo x >&2 2>/dev/null',
    'echo a &> both; cat both',
    'exec 2>&1; echo fine',
    'printf "%s-%d\\n" a 1 b 2; printf "%5.2f|%-4s|%x|%o|%e\\n" 3.14159 ab 255 8 1234.5',
    'printf %d abc; echo " $?"',
    'echo -e "a\\tb\\n" -n; echo -n x; echo',
    'x=$(printf "a\\n\\n\\n"); echo "[$x]"',
    'echo *.txt; echo s*/; echo nomatch*',
    'echo sub/*; echo */*.log',
    'type echo cd ls if nope; echo $?',
    'command -v ls echo; command -V true',
    'read a b c <<< "1 2 3 4"; echo "$c"',
    'while read line; do echo "[$line]"; done < words.txt',
    'cat nonl.txt | while read l; do echo $l; done; echo',
    'sleep 0.1 & jobs; wait; echo done $?',
    'false & wait $!; echo $?',
    'sleep 5 & kill %1; wait %1; echo $?',
    'unset PATH; ls',
    'export A=1 B; echo ${A}${B-unset}; unset A; echo ${A-gone}',
    'eval "x=3; echo \\$x"; echo $x',
    'getopts',
    'OPTIND=1; set -- -a -b val c; while getopts ab: o; do echo "$o $OPTARG"; done; shift $((OPTIND-1)); echo "$@"',
  ];
  it.each(scripts.map((s) => [s]))('%s', (script) => same(script, DATA));
});

describe('tools (compared with the real coreutils, grep, sed, gawk)', () => {
  const scripts: string[] = [
    'cat words.txt nonl.txt; cat -n words.txt; cat -A nonl.txt; cat nope.txt; echo $?',
    'head -n 2 words.txt; head -3 nums.txt; head -n -2 dup.txt; head -c 5 words.txt; echo; head words.txt nonl.txt',
    'tail -n 2 words.txt; tail -n +3 dup.txt; tail -n 2 nonl.txt; echo; tail -c 4 words.txt; tail -n 0 dup.txt',
    'head -n x words.txt; echo $?',
    'wc words.txt; wc -l < words.txt; wc -w nums.txt csv.txt; cat words.txt | wc; wc -c nonl.txt; wc -L words.txt',
    'sort nums.txt; sort -n nums.txt; sort -rn nums.txt; sort -k2 nums.txt; sort -k3,3n nums.txt; sort -t, -k2 -n csv.txt',
    'sort -u dup.txt; sort -r words.txt; sort -f words.txt; sort -k1,1 -k2r nums.txt',
    'uniq dup.txt; uniq -c dup.txt; uniq -d dup.txt; uniq -u dup.txt; sort dup.txt | uniq -c',
    'cut -d, -f2 csv.txt; cut -d, -f1,3 csv.txt; cut -c1-3 words.txt; cut -d" " -f2- words.txt; cut -f1 -d, --output-delimiter=: csv.txt',
    'tr a-z A-Z < words.txt; tr -d aeiou < words.txt; echo "aaabbb  cc" | tr -s ab; echo hello | tr -c a-z "\\n"; echo abc | tr "[:lower:]" "[:upper:]"',
    'echo hi | tee t1 t2 > /dev/null; cat t1 t2; echo more | tee -a t1; cat t1',
    'seq 5; seq 2 4; seq 1 2 9; seq 5 -1 3; seq -w 8 11; seq -s, 4; seq 0.5 0.5 2; seq 1 0',
    'grep the words.txt; grep -i the words.txt; grep -c the words.txt; grep -v the words.txt; grep -n o words.txt',
    'grep -o "[a-z]*o[a-z]*" words.txt; grep -E "fox|dog" words.txt; grep -w the words.txt; grep -x "jumps over" words.txt',
    'grep -r line .; grep -l the *.txt; grep -L the *.txt; grep -q fox words.txt; echo $?; grep zzz words.txt; echo $?; grep x nope; echo $?',
    'grep "\\(the\\) lazy" words.txt; grep "^the" words.txt; grep "o$" words.txt; grep -e fox -e End words.txt; grep -h the words.txt csv.txt',
    'grep -A1 fox words.txt; grep -B1 lazy words.txt; grep -c "" nonl.txt',
    'sed s/the/THE/ words.txt; sed s/o/0/g words.txt; sed -n 2p words.txt; sed 2d words.txt; sed -n "/the/p" words.txt',
    'sed "1,2s/^/> /" words.txt; sed -e "s/a/A/" -e "s/e/E/g" words.txt; sed "$d" dup.txt; sed -n "$=" words.txt; sed "s/\\(o\\)\\(.\\)/\\2\\1/g" words.txt',
    'sed -E "s/([a-z]+) ([a-z]+)/\\2 \\1/" words.txt; sed "/^$/d" words.txt; sed "y/abc/xyz/" csv.txt; sed "2q" words.txt; sed -n "2,/dog/p" words.txt',
    'sed "a\\\\\nadded" nonl.txt; sed "2i inserted" dup.txt; sed "3c changed" dup.txt; sed = nonl.txt; sed -n "1~2p" dup.txt',
    'sed -n "h;n;G;p" dup.txt; sed "s/x*/-/g" nonl.txt; sed "s/e/E/2" words.txt; sed "s/a/&&/" csv.txt; sed -i s/apple/APPLE/ nums.txt; cat nums.txt',
    'awk "{print \\$1}" nums.txt; awk -F, "{print \\$2, \\$1}" csv.txt; awk "NR>1 && \\$3 > 5" nums.txt; awk "END {print NR}" words.txt',
    'awk "{s += \\$1} END {print s, s/NR}" nums.txt; awk "{print NF}" words.txt; awk "BEGIN {x = 1.5; y = 2; print x*y, x/3, 2^10, 7%3, -x}"',
    'awk "{c[\\$2]++} END {for (k in c) print k, c[k]}" nums.txt | sort; awk "length > 10" words.txt; awk "/the/,/over/" words.txt',
    'awk -F, "NR==1 {next} {printf \\"%-6s|%5.1f|%d\\n\\", \\$1, \\$2, \\$2}" csv.txt; awk "{\\$2 = \\"X\\"; print; print NF}" nums.txt',
    'awk "BEGIN {print substr(\\"hello\\", 2, 3), index(\\"hello\\", \\"l\\"), length(\\"abc\\"), toupper(\\"x\\"), int(3.9)}"',
    'awk "{n = split(\\$0, a, \\",\\"); print n, a[n]}" csv.txt; awk "{gsub(/a/, \\"A\\"); print}" csv.txt; awk "{sub(/o/, \\"0\\"); print}" words.txt',
    'awk "BEGIN {if (match(\\"foobar\\", /o+/)) print RSTART, RLENGTH; print 1==1.0, \\"a\\" < \\"b\\", 10 < 9, \\"10\\" < \\"9\\"}"',
    'awk -v n=3 "NR <= n" dup.txt; awk "function f(x) { return x*2 } {print f(\\$1)}" nums.txt; awk "BEGIN {OFS=\\"-\\"} {\\$1=\\$1; print}" words.txt',
    'awk "BEGIN { while (i < 3) { i++; if (i == 2) continue; print i }; do { j++ } while (j < 5); print j }"; awk "{print \\$NF}" words.txt',
    'awk "BEGIN {printf \\"%s %c %c %5.2e %i\\n\\", \\"s\\", 65, \\"hello\\", 12345.678, 42.9}"; echo "3 4" | awk "{print \\$1 \\$2, \\$1 + \\$2}"',
    'basename /a/b/c.txt; basename /a/b/c.txt .txt; basename /; dirname /a/b/c; dirname c; dirname /a; basename -a x/y z/w',
    'mkdir -p d1/d2/d3; ls d1; mkdir d1; echo $?; rmdir d1; echo $?; rm -r d1; ls d1; echo $?',
    'touch new; ls new; cp words.txt w2; cat w2 | head -1; mv w2 w3; ls w2 w3; cp -r sub sub2; ls sub2 sub2/deeper; rm nope; echo $?; rm -f nope; echo $?',
    'ln -s words.txt link; readlink link; cat link | head -1; ls -d sub; rm -r sub; ls; cp sub x; echo $?',
    'find . -name "*.txt" | sort; find . -type d | sort; find . -maxdepth 1 -type f -name "d*" | sort; find sub -name "*.log"',
    'find . -type f -name "*.log" -exec cat {} \\;; find . -path "*deeper*" | sort; find . -empty; find nope; echo $?',
    'echo a b c | xargs -n 1 echo x; printf "1\\n2\\n" | xargs echo; echo "a b" | xargs -I{} echo "<{}>"; ls *.txt | xargs wc -l',
    'yes | head -n 3; yes abc | head -2; true; echo $?; false; echo $?; echo; printf "a\\nb\\n" | tac; echo abc | rev',
    'test 1 -eq 1 && echo t; [ -f words.txt ] && echo f; /usr/bin/test -d sub; echo $?; env | grep -c "^PATH="',
    'expr_missing_tool; echo $?; sort -k0 nums.txt; echo $?; cut nums.txt; echo $?; tr; echo $?; seq; echo $?',
    'cat words.txt | head -n 1 | tr a-z A-Z | sed "s/ /_/g" | awk "{print length(\\$0), \\$0}"',
    'printf "b\\na\\nc\\n" | sort | uniq | wc -l; printf "x\\ny\\n" > in; sort -r in -o out; cat out',
    'ls; ls -1 sub; ls -a sub; ls -R sub; ls -d */; ls -F; ls nope; echo $?',
    'touch file{1..30}; ls -C; COLUMNS=30 ls -C; ls -C sub',
    'ls -l *.txt | awk "{print \\$1, \\$2, \\$3, \\$4, \\$5, \\$9}"; ls -ln dup.txt | cut -d" " -f1-5; ls -lh nums.txt | cut -d" " -f5',
    'stat -c "%n %s %F %a %A %U %G %h %u %g" words.txt nonl.txt; stat -c "%n %F %A" sub; stat nope; echo $?',
    'date -u -d @86400 "+%Y-%m-%d %H:%M:%S %j %a %A %b %B %e %s %u %w %y %C %I %p %R %T %D %F %%"; date -d @1700000000; date -u -d "2026-03-04 05:06:07" "+%c|%x|%X|%V|%U|%W|%G"',
    'date -d @0 -R; date -d @1234567890 -I; date -d @1234567890 -Iseconds; date -d "2024-02-29" +%j; date -d garbage; echo $?',
    'printf "%q %q %q\\n" "a b" "x\\$y" plain; printf "%05.1f|%+d|% d|%#x|%#o|%-5d|%.3s|%c\\n" 3.14159 5 5 255 8 42 abcdef xyz',
    'echo $((2**63-1)) $((-2**63)) $((10/3)) $((10%-3)) $((!0)) $((~5)) $((1,2)) $((x=4, x*x))',
    'id; id -u; id -un; whoami; id -G',
    'grep -rn tree . | sort; grep -c e *.txt; find . -name "*.txt" -exec wc -l {} + | sort',
    'cut -b 2-4 words.txt; cut -c -2,5- csv.txt; cut -d, -f2 -s words.txt csv.txt; sort -t, -k3 csv.txt | head -2',
    'seq 10 | sed -n "3,5!p"; seq 6 | sed "N;s/\\n/+/"; seq 5 | sed "1!G;h;\\$!d"; seq 3 | sed -n "\\$p"',
    'seq 20 | awk "NR%5==0 {printf \\"%d;\\", \\$1} END {print \\"\\"}"; seq 5 | awk "{a[NR]=\\$1} END {for (i=NR;i>0;i--) printf \\"%s \\", a[i]; print \\"\\"}"',
    'awk "BEGIN {print length()}" < /dev/null; echo "a:b:c" | awk -F: -v OFS=- "{\\$1=\\$1} 1"; echo "x y" | awk "{print \\$3 \\"|\\" NF}"; awk "BEGIN {printf \\"%5.2f%%\\n\\", 12.345}"',
  ];
  it('has the real tools to compare with', () => {
    expect(['sort', 'sed', 'awk', 'grep', 'find', 'xargs'].filter((t) => !have(t))).toEqual([]);
  });
  it.each(scripts.map((s) => [s]))('%s', (script) => same(script, DATA));
});
