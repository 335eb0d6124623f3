/**
 * The shell's abstract syntax tree. Plain JSON data (no classes, no
 * functions), so function definitions and queued background jobs snapshot
 * with the rest of the shell state.
 *
 * Every node carries `pos` (offset into the source it was parsed from) and
 * `line` (1-based line, what bash prints as "line N:").
 */
export interface Loc {
  pos: number;
  line: number;
}

// ------------------------------------------------------------------ words

/** One piece of a word. `q` = inside quotes (no field splitting, no globbing). */
export type WordPart =
  | { type: 'lit'; value: string; q: boolean }
  | ParamPart
  | { type: 'cmdsub'; body: Script; q: boolean; text: string }
  | { type: 'arith'; expr: Word; q: boolean; text: string };

export type ParamOp =
  | ''
  | 'len' // ${#x}
  | ':-'
  | '-'
  | ':='
  | '='
  | ':+'
  | '+'
  | ':?'
  | '?'
  | '#'
  | '##'
  | '%'
  | '%%'
  | '/'
  | '//'
  | '/#'
  | '/%'
  | ':' // substring
  | '^'
  | '^^'
  | ','
  | ',,'
  | 'bad'; // bad substitution, reported when expanded

export interface ParamPart {
  type: 'param';
  name: string;
  op: ParamOp;
  /** operand: default value, pattern, offset... */
  arg?: Word;
  /** replacement of ${x/pat/rep}, length of ${x:off:len} */
  arg2?: Word;
  q: boolean;
  /** the source text, for "bad substitution" messages */
  text: string;
}

export interface Word extends Loc {
  parts: WordPart[];
  /** source text of the word */
  raw: string;
}

// ------------------------------------------------------------------ commands

export type RedirOp = '<' | '>' | '>>' | '>|' | '<>' | '<&' | '>&' | '&>' | '&>>' | '<<' | '<<-' | '<<<';

export interface Redir extends Loc {
  /** file descriptor the redirection applies to (undefined: the op's default) */
  fd?: number;
  op: RedirOp;
  target: Word;
  /** here-document body (op << or <<-); expanded unless `heredocQuoted` */
  heredoc?: Word;
  heredocQuoted?: boolean;
}

export interface Assign extends Loc {
  name: string;
  append: boolean;
  value: Word;
}

export interface SimpleCommand extends Loc {
  type: 'simple';
  assigns: Assign[];
  words: Word[];
  redirs: Redir[];
}

export interface Subshell extends Loc {
  type: 'subshell';
  body: List;
  redirs: Redir[];
}

export interface Group extends Loc {
  type: 'group';
  body: List;
  redirs: Redir[];
}

export interface If extends Loc {
  type: 'if';
  clauses: { cond: List; body: List }[];
  else?: List;
  redirs: Redir[];
}

export interface Loop extends Loc {
  type: 'while' | 'until';
  cond: List;
  body: List;
  redirs: Redir[];
}

export interface For extends Loc {
  type: 'for';
  name: string;
  /** undefined: iterate over "$@" */
  items?: Word[];
  body: List;
  redirs: Redir[];
}

export interface CaseItem extends Loc {
  patterns: Word[];
  body: List;
  /** ;; (stop), ;& (fall through), ;;& (test next) */
  term: ';;' | ';&' | ';;&';
}

export interface Case extends Loc {
  type: 'case';
  word: Word;
  items: CaseItem[];
  redirs: Redir[];
}

export interface FuncDef extends Loc {
  type: 'func';
  name: string;
  body: Command;
  /** source text of the definition (what `type f` / `declare -f` would show) */
  text: string;
  redirs: Redir[];
}

/** `(( expr ))` */
export interface ArithCommand extends Loc {
  type: 'arithcmd';
  expr: Word;
  redirs: Redir[];
}

/** `[[ ... ]]`: words are not split or globbed; operators kept as words */
export interface CondCommand extends Loc {
  type: 'cond';
  args: Word[];
  redirs: Redir[];
}

export type Command = SimpleCommand | Subshell | Group | If | Loop | For | Case | FuncDef | ArithCommand | CondCommand;

export interface Pipeline extends Loc {
  type: 'pipeline';
  negate: boolean;
  commands: Command[];
  /** per command: true when joined to the next by `|&` */
  stderrToo: boolean[];
}

export interface AndOr extends Loc {
  type: 'andor';
  first: Pipeline;
  rest: { op: '&&' | '||'; pipeline: Pipeline }[];
  /** terminated by & */
  background: boolean;
  /** source text of this and-or list (what `jobs` prints) */
  text: string;
}

export interface List extends Loc {
  type: 'list';
  items: AndOr[];
}

/** A parsed script: a list of top-level complete commands. */
export interface Script {
  type: 'script';
  commands: List[];
}
