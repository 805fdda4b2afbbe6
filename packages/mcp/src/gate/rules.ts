/**
 * Which proxied calls need the user's approval. Fail closed: by default every tool that is not
 * annotated `readOnlyHint: true` is gated (an unannotated tool is risky); rules override it.
 *
 * Precedence: among the rules whose tool pattern matches, the most specific decides (an exact
 * name beats a glob, a glob with more literal characters beats a shorter one); on a tie, `gate`
 * wins. A `when` rule gates only when the call's arguments match it. A condition on an absent
 * argument does not hold (use `exists`); an argument of the wrong type for an operator (a string
 * where `gt` expects a number) counts as a match: fail closed.
 * @module
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ArgPredicate, GateConfig, ToolRule } from './config.js';

/** The rules of one proxy: globs from flags and the config file's per-tool rules. */
export interface GateRules {
  /** Tool name globs that are always gated (`*` and `?` wildcards). */
  gate?: readonly string[];
  /** Tool name globs that are never gated. */
  allow?: readonly string[];
  /** Per-tool rules (keys may be globs). */
  tools?: Readonly<Record<string, ToolRule>>;
}

/** Merges flag globs and a config file (both apply; specificity decides between them). */
export function mergeRules(config: GateConfig | undefined, flags: { gate?: string[]; allow?: string[] }): GateRules {
  return {
    gate: [...(config?.gate ?? []), ...(flags.gate ?? [])],
    allow: [...(config?.allow ?? []), ...(flags.allow ?? [])],
    tools: { ...(config?.tools ?? {}) },
  };
}

/** A glob over tool names: `*` any run of characters, `?` one character, the rest literal. */
export function globToRegExp(glob: string): RegExp {
  const body = [...glob]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'su');
}

const specificity = (glob: string) => (/[*?]/.test(glob) ? glob.replace(/[*?]/g, '').length : Infinity);

function valueAt(args: Record<string, unknown>, path: string): { found: boolean; value: unknown } {
  let current: unknown = args;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, part)) {
      return { found: false, value: undefined };
    }
    current = (current as Record<string, unknown>)[part];
  }
  return { found: true, value: current };
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Whether one predicate holds for a value; mismatched types count as holding (fail closed). */
export function predicateHolds(p: ArgPredicate, found: boolean, value: unknown): boolean {
  if (p.exists !== undefined && p.exists !== found) return false;
  const rest = Object.keys(p).filter((k) => k !== 'exists');
  if (rest.length === 0) return true;
  if (!found) return false;
  const s = typeof value === 'string' ? value : undefined;
  const n = typeof value === 'number' ? value : undefined;
  const checks: boolean[] = [];
  if ('equals' in p) checks.push(sameJson(value, p.equals));
  if ('notEquals' in p) checks.push(!sameJson(value, p.notEquals));
  if (p.in) checks.push(p.in.some((v) => sameJson(v, value)));
  if (p.startsWith !== undefined) checks.push(s === undefined || s.startsWith(p.startsWith));
  if (p.endsWith !== undefined) checks.push(s === undefined || s.endsWith(p.endsWith));
  if (p.contains !== undefined) checks.push(s === undefined || s.includes(p.contains));
  if (p.matches !== undefined) checks.push(s === undefined || new RegExp(p.matches, 'u').test(s));
  if (p.gt !== undefined) checks.push(n === undefined || n > p.gt);
  if (p.gte !== undefined) checks.push(n === undefined || n >= p.gte);
  if (p.lt !== undefined) checks.push(n === undefined || n < p.lt);
  if (p.lte !== undefined) checks.push(n === undefined || n <= p.lte);
  return checks.every(Boolean);
}

function ruleGates(rule: ToolRule, args: Record<string, unknown>): boolean {
  if (rule === 'gate') return true;
  if (rule === 'allow') return false;
  const conditions = Array.isArray(rule.when) ? rule.when : [rule.when];
  return conditions.some((condition) =>
    Object.entries(condition).every(([path, predicate]) => {
      const { found, value } = valueAt(args, path);
      return predicateHolds(predicate, found, value);
    }),
  );
}

/** Why a call is or is not gated, for logs and tests. */
export interface GateVerdict {
  gated: boolean;
  /** `annotations`, or the pattern of the rule that decided. */
  by: string;
}

/**
 * Decides whether a call needs approval.
 * @param tool the upstream's definition, or undefined when the proxy does not know the tool (gated)
 */
export function needsApproval(
  rules: GateRules,
  name: string,
  tool: Pick<Tool, 'annotations'> | undefined,
  args: Record<string, unknown>,
): GateVerdict {
  const candidates: { pattern: string; rule: ToolRule }[] = [
    ...(rules.gate ?? []).map((pattern) => ({ pattern, rule: 'gate' as const })),
    ...(rules.allow ?? []).map((pattern) => ({ pattern, rule: 'allow' as const })),
    ...Object.entries(rules.tools ?? {}).map(([pattern, rule]) => ({ pattern, rule })),
  ].filter((c) => globToRegExp(c.pattern).test(name));
  if (candidates.length > 0) {
    const best = Math.max(...candidates.map((c) => specificity(c.pattern)));
    const top = candidates.filter((c) => specificity(c.pattern) === best);
    const gating = top.find((c) => ruleGates(c.rule, args));
    return gating ? { gated: true, by: gating.pattern } : { gated: false, by: top[0]!.pattern };
  }
  return { gated: tool?.annotations?.readOnlyHint !== true, by: 'annotations' };
}
