/**
 * Paraphrase-aware recall without a model: the query's words expanded with the coding vocabulary agents use
 * (db/database, prod/production, CI, repo, auth, env, …) and with WordNet synonyms (thesaurus-data.ts, built from
 * WordNet 3.1). SQL `coord.recall` scores an expansion below the word itself and never on top of it (docs/MEMORY.md,
 * "Paraphrases"), so the relevance floor still keeps queries with no relevant memory empty.
 */
import { WORDNET_SYNONYMS } from "./thesaurus-data.ts";

export interface Expansion {
  /** The query word expanded. */
  from: string;
  /** A word or short phrase that may stand for it in a memory. */
  to: string;
  /** Its weight relative to an exact match (< 1). */
  weight: number;
}

/** How much an expansion counts against the word itself: measured on the paraphrase fixture (ranking.test.ts). */
export const CODING_WEIGHT = 0.9;
export const WORDNET_WEIGHT = 0.7;

/**
 * Groups of words and abbreviations developers use for the same thing. Every member expands to every other.
 * General coding vocabulary, not tuned to any corpus.
 */
const CODING_GROUPS: string[][] = [
  ["db", "database", "datastore"],
  ["pg", "postgres", "postgresql"],
  ["prod", "production"],
  ["dev", "development"],
  ["staging", "preprod"],
  ["repo", "repository"],
  ["auth", "authentication", "authn", "login", "signin", "sign in"],
  ["authz", "authorization", "permission"],
  ["env", "environment"],
  ["config", "configuration", "cfg", "settings"],
  ["deps", "dependencies", "dependency", "dep"],
  ["ci", "pipeline", "continuous integration"],
  ["cd", "deployment", "continuous delivery"],
  ["deploy", "release", "ship"],
  ["pr", "pull request", "merge request", "mr"],
  ["k8s", "kubernetes"],
  ["js", "javascript"],
  ["ts", "typescript"],
  ["py", "python"],
  ["perf", "performance", "latency", "throughput"],
  ["msg", "message"],
  ["err", "error", "exception"],
  ["fn", "func", "function", "method"],
  ["args", "arguments", "argv"],
  ["param", "parameter", "params"],
  ["dir", "directory", "folder"],
  ["docs", "documentation", "readme"],
  ["tmp", "temp", "temporary"],
  ["pkg", "package", "module", "library", "lib"],
  ["infra", "infrastructure"],
  ["e2e", "end-to-end", "integration test"],
  ["spec", "test", "testcase"],
  ["async", "asynchronous", "concurrent", "parallel"],
  ["regex", "regexp", "regular expression"],
  ["url", "link", "endpoint", "route"],
  ["id", "identifier", "key"],
  ["gh", "github"],
  ["crash", "panic", "segfault"],
  ["hang", "freeze", "stall", "stuck"],
  ["flaky", "intermittent", "nondeterministic", "unstable"],
  ["slow", "sluggish"],
  ["timeout", "time out", "timed out"],
  ["upgrade", "bump", "update"],
  ["creds", "credentials", "secret", "token", "password"],
  ["cache", "memoize", "memoise"],
  ["mock", "stub", "fake", "spy"],
  ["lint", "linter", "eslint"],
  ["fmt", "format", "formatter", "prettier"],
  ["proxy", "gateway", "reverse proxy"],
  ["tz", "timezone", "time zone"],
  ["ws", "websocket"],
  ["cli", "command line", "terminal", "shell"],
  ["vm", "virtual machine"],
  ["container", "docker", "image"],
  ["api", "endpoint", "rest"],
  ["schema", "migration", "ddl"],
  ["orm", "prisma"],
  ["sql", "query"],
  ["jwt", "token"],
  ["int", "integer"],
  ["str", "string", "text"],
  ["bool", "boolean"],
  ["obj", "object"],
  ["arr", "array", "list"],
  ["dict", "map", "hashmap", "dictionary"],
  ["var", "variable"],
  ["const", "constant"],
  ["impl", "implementation"],
  ["init", "initialise", "initialize", "startup", "boot"],
  ["teardown", "cleanup"],
  ["ok", "success", "pass"],
  ["fail", "failure", "broken", "error"],
  ["bug", "defect", "issue"],
  ["fix", "patch", "workaround"],
  ["commit", "changeset"],
  ["branch", "main", "master", "trunk"],
  ["vcs", "git", "version control"],
  ["os", "linux", "windows", "macos"],
];

const STOPWORDS = new Set(
  (
    "a an and are as at be been but by can could did do does for from had has have how i if in into is it its me my no " +
    "not of on or our should so than that the their them then there these they this to too us was we were what when " +
    "where which while who why will with would you your about after again all any before being both each few more most " +
    "other some such only own same very just also get got keeps still even"
  ).split(" "),
);

let wordnet: Map<string, string[]> | null = null;
function synonymsOf(word: string): string[] {
  wordnet ??= new Map(
    WORDNET_SYNONYMS.split(";").map((e) => {
      const [w, s] = e.split(":");
      return [w!, s!.split(",")];
    }),
  );
  return wordnet.get(word) ?? [];
}

/** The word's base forms to look up (WordNet lists lemmas: "tests" → "test", "failing" → "fail"). */
function lemmas(word: string): string[] {
  const out = [word];
  if (word.endsWith("ies")) out.push(`${word.slice(0, -3)}y`);
  if (word.endsWith("es")) out.push(word.slice(0, -2));
  if (word.endsWith("s") && !word.endsWith("ss")) out.push(word.slice(0, -1));
  if (word.endsWith("ed")) out.push(word.slice(0, -2), word.slice(0, -1));
  if (word.endsWith("ing")) out.push(word.slice(0, -3), `${word.slice(0, -3)}e`);
  return out.filter((w) => w.length >= 2);
}

const coding = new Map<string, string[]>();
for (const group of CODING_GROUPS) {
  for (const w of group) coding.set(w, [...new Set([...(coding.get(w) ?? []), ...group.filter((x) => x !== w)])]);
}

export interface ExpansionOptions {
  coding?: boolean;
  wordnet?: boolean;
  /** At most this many expansions per query word. */
  perWord?: number;
}

/** The expansions of a query's words: coding vocabulary first, then WordNet synonyms; at most 48 in all. */
export function expandQuery(text: string, options: ExpansionOptions = {}): Expansion[] {
  const { coding: useCoding = true, wordnet: useWordnet = true, perWord = 6 } = options;
  const words = [...new Set(text.toLowerCase().match(/[a-z][a-z0-9-]*[a-z0-9]|[a-z]/g) ?? [])].filter(
    (w) => !STOPWORDS.has(w),
  );
  const out: Expansion[] = [];
  for (const word of words) {
    const seen = new Set<string>([word]);
    let n = 0;
    const add = (to: string, weight: number) => {
      if (n >= perWord || seen.has(to)) return;
      seen.add(to);
      out.push({ from: word, to, weight });
      n++;
    };
    const forms = lemmas(word);
    if (useCoding) for (const f of forms) for (const to of coding.get(f) ?? []) add(to, CODING_WEIGHT);
    if (useWordnet && word.length >= 3) {
      for (const f of forms) {
        const syn = synonymsOf(f);
        if (syn.length) {
          for (const to of syn) add(to, WORDNET_WEIGHT);
          break;
        }
      }
    }
  }
  return out.slice(0, 48);
}
